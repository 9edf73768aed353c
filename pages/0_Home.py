"""Home: what Segmenter does, and the way in (upload or sample data)."""

import streamlit as st

from segmenter.errors import SegmenterError
from segmenter.ui import state
from segmenter.ui.data import accept_sample
from segmenter.ui.widgets import plain

state.init_state()

st.title("Segmenter")
st.subheader("Find the customer segments hiding in your own data")
st.markdown(
    """
Upload a customer table — free text such as reviews, complaints or notes next to columns
such as age, spend, plan or tenure — and Segmenter will:

1. **read** it, whatever the delimiter or encoding, and propose a role for each column;
2. **embed** the text with a bundled language model (English or multilingual, offline);
3. **find segments** from text and columns together, and draw them on an interactive map;
4. **profile** each segment: size, traits against the whole table, keywords, typical quotes;
5. **export** every row with its segment, ready for your CRM.

Nothing leaves this machine: the models run locally.
"""
)

left, right = st.columns(2)
with left:
    if st.button("Try with sample data", type="primary", key="home_sample"):
        try:
            accept_sample()
        except SegmenterError as error:
            st.error(str(error))
        else:
            st.session_state[state.AUTO_RUN] = True
            st.switch_page("pages/2_Segments.py")
    st.caption("2,000 fictional customers of an online shop, with feedback in English and Chinese.")
with right:
    if st.button("Upload your own table", key="home_upload"):
        st.switch_page("pages/1_Upload.py")
    st.caption("CSV, TSV, Excel (.xlsx) or Parquet, up to 200 MB.")

loaded = state.get(state.LOADED)
if loaded is not None:
    st.info(
        f"Current table: {plain(loaded.report.filename)} — {loaded.report.n_rows:,} rows, "
        f"{loaded.report.n_columns} columns."
    )
