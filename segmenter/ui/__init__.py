"""The Streamlit layer: the only part of Segmenter that imports streamlit."""
