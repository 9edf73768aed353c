"""Cached loading of uploads, the sample table and models for the pages."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from segmenter.embedding import Embedder, get_embedder
from segmenter.ingest import LoadedTable, detect_schema, load_table
from segmenter.pipeline import SegmentationRun
from segmenter.profile import SegmentProfile, rename_segments
from segmenter.search import KeywordIndex, keyword_index
from segmenter.transactions import (
    CustomerTable,
    TransactionColumns,
    aggregate_transactions,
    customer_schema,
)
from segmenter.ui import state

if TYPE_CHECKING:
    from segmenter.campaign import SegmentPersona

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SAMPLE_PATH = ASSETS / "sample_customers.csv"
SAMPLE_NAME = "sample_customers.csv"
SAMPLE_TRANSACTIONS_PATH = ASSETS / "sample_transactions.csv"


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


@st.cache_resource(show_spinner=False, max_entries=4)
def _keyword_index_cached(docs_hash: str, _docs: Sequence[str]) -> KeywordIndex:
    return keyword_index(_docs)


def texts_keyword_index(docs: Sequence[str]) -> KeywordIndex:
    """The BM25 index of a run's texts, built on the first search and shared by every
    session with the same texts (keyed by their hash)."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(doc.encode("utf-8", "surrogatepass") + b"\x1f")
    return _keyword_index_cached(digest.hexdigest(), docs)


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


def accept_sample_transactions() -> LoadedTable:
    """Load the bundled sample transaction log as if the user had uploaded it."""
    return accept_file(SAMPLE_TRANSACTIONS_PATH.read_bytes(), SAMPLE_TRANSACTIONS_PATH.name)


@st.cache_data(max_entries=4, show_spinner=False)
def _aggregate_cached(
    content_hash: str, _frame: object, columns: TransactionColumns, filename: str
) -> CustomerTable:
    return aggregate_transactions(_frame, columns, filename)  # type: ignore[arg-type]


def accept_transactions(columns: TransactionColumns) -> CustomerTable:
    """Turn the loaded transaction log into one row per customer, in place of the log.

    Raises:
        SegmenterError: when no row can be attributed to a customer.
    """
    loaded: LoadedTable = st.session_state[state.LOADED]
    table = _aggregate_cached(
        state.get(state.UPLOAD_FINGERPRINT), loaded.frame, columns, loaded.report.filename
    )
    st.session_state[state.TRANSACTION_LOG] = loaded
    st.session_state[state.LOADED] = table.customers
    st.session_state[state.SCHEMA] = customer_schema(table.customers, columns)
    st.session_state[state.TRANSACTIONS] = table
    state.invalidate_downstream(state.SCHEMA)
    return table


def undo_transactions() -> None:
    """Go back to the transaction rows as uploaded (one row per line, not per customer)."""
    log: LoadedTable = st.session_state[state.TRANSACTION_LOG]
    st.session_state[state.LOADED] = log
    st.session_state[state.SCHEMA] = detect_schema(log.frame)
    st.session_state.pop(state.TRANSACTIONS, None)
    state.invalidate_downstream(state.SCHEMA)


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread | None:
    """Once per server process: compile UMAP's kernels, load the models and read the
    sentiment reader's phrases in the background (``warm_up.warm_up_server``), so that the
    first segmentation does not wait for them. ``SEGMENTER_WARM_UP=0`` turns it off."""
    from segmenter.warm_up import warm_up_server  # noqa: PLC0415 - imports the models

    if os.environ.get("SEGMENTER_WARM_UP", "1") == "0":
        return None
    thread = threading.Thread(target=warm_up_server, name="warm-up", daemon=True)
    thread.start()
    return thread


def accept_run(folder: Path) -> SegmentationRun:
    """Open a finished run folder as the session's table and run (nothing is recomputed).

    Raises:
        SegmenterError: the folder is not a complete run; the message says why.
    """
    from segmenter.runs import open_run  # noqa: PLC0415

    run = open_run(folder)
    state.invalidate_downstream(state.UPLOAD_FINGERPRINT)
    st.session_state[state.UPLOAD_FINGERPRINT] = f"run folder {folder.resolve()}"
    st.session_state[state.LOADED] = run.loaded
    st.session_state[state.SCHEMA] = run.schema
    state.set_run(run, folder)
    return run


def named_profiles(run: SegmentationRun) -> list[SegmentProfile]:
    """The run's profiles under the names this user gave them (blank keeps the made name)."""
    return rename_segments(run.result.profiles, st.session_state[state.SEGMENT_NAMES])


def keep_lm_names(personas: Mapping[int, SegmentPersona], *, page: str = "segments") -> None:
    """Keep the language model's names and personas as this user's; the name boxes on
    ``page``'s profile cards show the new names when they are next drawn."""
    for segment_id, persona in personas.items():
        st.session_state[state.SEGMENT_NAMES][segment_id] = persona.name
        st.session_state[state.PERSONAS][segment_id] = persona.persona
        st.session_state[state.LM_NAMES][segment_id] = persona
        # A text box keeps its own value over its default: give it the new name.
        st.session_state[state.profile_name_key(page, segment_id)] = persona.name
