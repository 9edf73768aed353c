"""Cached loading of uploads, the sample table and models for the pages."""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from segmenter.embedding import Embedder, get_embedder
from segmenter.ingest import LoadedTable, detect_schema, load_table
from segmenter.ui import state

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "assets" / "sample_customers.csv"
SAMPLE_NAME = "sample_customers.csv"


def fingerprint(data: bytes) -> str:
    """A content hash: the cache key for an upload, so no user can read another's file."""
    return hashlib.sha256(data).hexdigest()


@st.cache_data(max_entries=8, show_spinner=False)
def _load_cached(content_hash: str, filename: str, _data: bytes) -> LoadedTable:
    return load_table(_data, filename)


@st.cache_resource(show_spinner=False)
def embedder(name: str) -> Embedder:
    """The embedding model ``name``, loaded once per server process."""
    return get_embedder(name)


def accept_file(data: bytes, filename: str) -> LoadedTable:
    """Read an upload into session state; a different file clears all later results.

    Raises:
        SegmenterError: when the file cannot be read (the message says why).
    """
    content_hash = fingerprint(data)
    if state.get(state.UPLOAD_FINGERPRINT) != content_hash or state.get(state.LOADED) is None:
        loaded = _load_cached(content_hash, filename, data)
        state.invalidate_downstream(state.UPLOAD_FINGERPRINT)
        st.session_state[state.UPLOAD_FINGERPRINT] = content_hash
        st.session_state[state.LOADED] = loaded
        st.session_state[state.SCHEMA] = detect_schema(loaded.frame)
    loaded_table: LoadedTable = st.session_state[state.LOADED]
    return loaded_table


def accept_sample() -> LoadedTable:
    """Load the bundled sample customers as if the user had uploaded them."""
    return accept_file(SAMPLE_PATH.read_bytes(), SAMPLE_NAME)
