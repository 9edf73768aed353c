"""Entry point: `streamlit run app.py`. Sets up the page and the navigation between steps."""

import streamlit as st

from segmenter.ui.data import start_warm_up

st.set_page_config(page_title="Segmenter", page_icon="🧭", layout="wide")
start_warm_up()
navigation = st.navigation(
    [
        st.Page("pages/0_Home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/1_Upload.py", title="Upload", icon="📤"),
        st.Page("pages/2_Segments.py", title="Segments", icon="🧭"),
        st.Page("pages/3_Predict.py", title="Predict", icon="🎯"),
        st.Page("pages/4_Campaigns.py", title="Campaigns", icon="✍️"),
        st.Page("pages/5_Export.py", title="Export", icon="📦"),
        st.Page("pages/6_Compare.py", title="Compare runs", icon="🔀"),
        st.Page("pages/7_Results.py", title="Campaign results", icon="📈"),
    ]
)
navigation.run()
