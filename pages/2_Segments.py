"""Segments: run the segmentation, explore the map, read and rename the profiles."""

from dataclasses import replace

import streamlit as st

from segmenter.call_list import call_list, call_list_filename
from segmenter.campaign import name_segments
from segmenter.config import SEGMENT_BY_LABELS, ClusterConfig, EmbedConfig
from segmenter.embedding import available_embedders
from segmenter.errors import SegmenterError
from segmenter.export import to_csv_bytes
from segmenter.fusion import describe_drivers
from segmenter.identities import describe_identities, with_identities
from segmenter.maps import (
    ROW_KEY,
    map_frame,
    screen_sample,
    segment_map,
    silhouette_chart,
    sizes_chart,
    with_earlier_customers,
)
from segmenter.pipeline import embedding_note, recluster_run, run_details, run_segmentation
from segmenter.search import matches_frame, search_texts
from segmenter.ui import state
from segmenter.ui.campaign import campaign_panel, reply_section, session_generator
from segmenter.ui.data import embedder, keep_lm_names, named_profiles, texts_keyword_index
from segmenter.ui.jobs import segmentation_job
from segmenter.ui.saved import (
    assigned_record,
    earlier_points,
    earlier_run_choice,
    save_run,
    show_assigned,
)
from segmenter.ui.widgets import (
    most_common_segment,
    plain,
    profile_card,
    rows_from_selection,
    selection_of,
)
from segmenter.views import (
    colour_choices,
    colour_values,
    hover_columns,
    in_view,
    row_segment_names,
    segment_names,
    selected_customers,
    selected_rows,
)

SHOW_ALL = "All customers"
SHOW_NEGATIVE = "Negative feedback"
SHOW_URGENT = "Urgent-risk feedback"
CALL_LIST_VIEWS = {SHOW_NEGATIVE: "negative", SHOW_URGENT: "urgent"}

state.init_state()
st.title("Segments")

loaded = state.get(state.LOADED)
schema = state.get(state.SCHEMA)
if loaded is None or schema is None:
    st.info("No customer table yet: upload one or pick the sample data first.")
    st.page_link("pages/1_Upload.py", label="Go to Upload", icon="📤")
    st.stop()

has_text = bool(schema.text_columns)
with st.expander("Settings", expanded=state.get(state.RUN) is None), st.form("segments_settings"):
    left, middle, right = st.columns(3)
    embedder_names = ["auto", *available_embedders()]
    model = left.selectbox(
        "Text model",
        embedder_names,
        key="segments_model",
        disabled=not has_text,
        help="auto picks the multilingual model when much of the text is not in Latin script.",
    )
    k = middle.selectbox(
        "Number of segments",
        ["auto", *range(2, 31)],
        key="segments_k",
        help="auto: the best silhouette between 3 and 10 segments, shown after the run.",
    )
    text_weight = right.slider(
        "Weight of text against columns",
        0.0,
        1.0,
        0.6,
        0.05,
        key="segments_text_weight",
        disabled=not has_text,
        help="1 uses text only; 0 uses the structured columns only.",
    )
    min_size = left.number_input("Smallest segment (customers)", 1, 10_000, 10, key="segments_min")
    seed = middle.number_input("Random seed", 0, 10_000, 0, key="segments_seed")
    three_d = right.checkbox("3-D map", False, key="segments_3d")
    by_left, by_right = st.columns([1, 2])
    segment_by = by_left.radio(
        "Segment by",
        list(SEGMENT_BY_LABELS),
        format_func=SEGMENT_BY_LABELS.__getitem__,
        key="segments_by",
        help="What the segments are built from. Columns left out, and text under 'Columns "
        "only', still appear in the profiles.",
    )
    excluded = by_right.multiselect(
        "Leave these columns out of the segmentation",
        [*schema.numeric_columns, *schema.date_columns, *schema.categorical_columns],
        key="segments_exclude",
        help="For a column whose groups you already know (a product category, a region): "
        "the segments then cut across it.",
    )
    with_dates = by_right.checkbox(
        "Segment on date columns too",
        False,
        key="segments_dates",
        disabled=not schema.date_columns,
        help="Dates are profiled either way. Include them when when-it-happened sets customers "
        "apart (a signup date); leave them out for the date of an event (a complaint).",
    )
    keep_from = earlier_run_choice()
    submitted = st.form_submit_button("Find segments", type="primary")

submitted = submitted or bool(st.session_state.pop(state.AUTO_RUN, False))
if not has_text:
    st.caption("No text column: segments come from the structured columns alone.")

if submitted:
    embed_config = replace(EmbedConfig.from_env(), model=model)
    cluster_config = replace(
        ClusterConfig.from_env(),
        n_segments="auto" if k == "auto" else int(k),
        text_weight=float(text_weight) if has_text else 0.0,
        min_segment_size=int(min_size),
        random_state=int(seed),
        map_dims=3 if three_d else 2,
        segment_by=segment_by,
        exclude_columns=tuple(excluded),
        segment_dates=bool(with_dates),
    )
    bar = st.empty()
    try:
        with segmentation_job(loaded.frame):
            bar.progress(0.0, text="Starting")
            run = run_segmentation(
                loaded,
                schema,
                embed_config,
                cluster_config,
                progress=lambda message, fraction: bar.progress(min(fraction, 1.0), text=message),
                edited_labels=st.session_state[state.COLUMN_LABELS],
            )
    except SegmenterError as error:
        bar.empty()
        st.error(str(error))
        st.stop()
    bar.empty()
    if keep_from is not None:
        try:
            run, _ = with_identities(run, keep_from)
        except SegmenterError as error:
            st.warning(f"The segments are numbered afresh: {plain(str(error))}")
    state.set_run(run)
    state.invalidate_downstream(state.RUN)
    save_run(run)
    st.rerun()  # redraw from the top with the settings folded away

run = state.get(state.RUN)
if run is None:
    st.info("Choose the settings above and click **Find segments**.")
    st.stop()

profiles = named_profiles(run)
names = segment_names(profiles)
fitted = run.segmenter
unsegmented = int((run.result.labels < 0).sum())

metrics = st.columns(4)
metrics[0].metric("Segments", len(profiles))
silhouette = fitted.silhouette_
metrics[1].metric(
    "Silhouette",
    f"{silhouette:.3f}" if silhouette == silhouette else "—",  # NaN: not measured
    help="Not measured for a table placed into saved segments, or with one segment.",
)
metrics[2].metric("Customers segmented", f"{len(run.result.labels) - unsegmented:,}")
metrics[3].metric("Unsegmented rows", f"{unsegmented:,}", help="Rows with no usable value.")

assigned = assigned_record(run)
if assigned is not None:
    show_assigned(assigned)
if run.identities:
    st.caption(describe_identities(run.identities))
saved_folder = state.get(state.RUN_FOLDER)
if saved_folder and run.opened_from is None:
    st.caption(
        f"Saved in {saved_folder}: apply these segments to a later table from Upload "
        "(Apply saved segments), or compare runs on the Compare runs page."
    )
if run.opened_from is not None and assigned is None:
    engine = run.parameters().get("engine", {}).get("name", "local")
    st.caption(
        f"Opened from the run folder {run.opened_from} ({engine} engine): nothing was "
        "recomputed. Search matches words only: a run folder does not keep the texts' vectors."
    )
note = embedding_note(run.embedder_name, run.docs)
if note:
    st.info(note)
with st.expander("Run details: time per stage, parameters, models and versions"):
    st.dataframe(run_details(run), hide_index=True, key="segments_run_details")
    if run.reused:
        st.caption("Same table and settings as a recent run: reused, so these are its times.")
    st.json(run.parameters(), expanded=False)

with st.expander("How the number of segments was chosen"):
    st.text(f"{fitted.k_choice_.k} segments: {fitted.k_choice_.reason}.")
    if fitted.k_choice_.silhouettes:
        st.plotly_chart(
            silhouette_chart(fitted.k_choice_.silhouettes, fitted.k_choice_.k),
            key="segments_silhouette",
        )
    st.plotly_chart(
        sizes_chart([p.name for p in profiles], [p.size for p in profiles]),
        key="segments_sizes",
    )
    new_k = st.number_input(
        "Try another number of segments", 2, 30, fitted.n_segments_, key="segments_new_k"
    )
    if st.button("Re-cluster", key="segments_recluster") and new_k != fitted.n_segments_:
        try:
            reclustered = recluster_run(run, int(new_k))
        except SegmenterError as error:
            st.error(str(error))
            st.stop()
        state.set_run(reclustered)
        state.invalidate_downstream(state.RUN)
        save_run(reclustered)
        st.rerun()

prepared = run.prepared
search_col, colour_col = st.columns([3, 2])
with search_col:
    query = st.text_input(
        "Search customers by meaning and words",
        key="segments_search",
        placeholder="customers who complain about delivery",
        disabled=not has_text,
        help="Ranks by closeness in meaning and by the query's own words (BM25), so "
        "“runs small” finds texts saying runs small before those saying runs large.",
    )
    hits = None
    if query.strip() and has_text:
        with st.spinner("Indexing the words of every text (once per table)…"):
            keywords = texts_keyword_index(run.docs)
        model = (
            embedder(run.embedder_name) if run.embedding is not None and run.embedder_name else None
        )
        hits = search_texts(
            query, keywords=keywords, embedding=run.embedding if model else None, embedder=model
        )
        st.session_state[state.SEARCH_ROWS] = hits.rows.tolist()
        st.caption(f"{len(hits.rows)} customers match: ringed on the map, listed below it.")
    else:
        st.session_state[state.SEARCH_ROWS] = []
with colour_col:
    prediction = state.get(state.PREDICTION)
    colour = st.selectbox(
        "Colour by",
        colour_choices(run, prediction),
        key="segments_colour",
        help="The predicted score appears once a model is trained on the Predict page.",
    )

hover = hover_columns(schema)
points = map_frame(
    run.loaded.frame,
    run.result.labels,
    run.result.coords,
    names,
    run.docs,
    id_values=prepared.ids,
    id_name=prepared.id_name,
    hover_columns=hover,
)
view = None
if run.feedback is not None:
    urgent_count = int(run.feedback.urgent.sum())
    show = st.radio(
        "Show",
        [SHOW_ALL, SHOW_NEGATIVE, SHOW_URGENT],
        horizontal=True,
        key="segments_show",
        help="Urgent: negative feedback about cancelling, refunds, legal threats, safety or "
        f"fraud ({urgent_count:,} customers). A starting list for win-back campaigns.",
    )
    view = CALL_LIST_VIEWS.get(show)
    points = in_view(points, view, run.feedback)
    if view is not None:
        st.caption(f"{len(points):,} customers shown. {run.feedback.sentiment.source.describe()}")
drawn = screen_sample(points)
if len(drawn) < len(points):
    st.caption(
        f"The map draws a sample of {len(drawn):,} of these {len(points):,} customers (every "
        "segment in proportion, small ones in full); a box or lasso selects every customer "
        "in the area, and profiles and the export use them all."
    )
figure = segment_map(
    drawn,
    colour=colour,
    colour_values=colour_values(run, colour, prediction),
    highlight_rows=st.session_state[state.SEARCH_ROWS],
    hover_columns=hover,
    id_name=prepared.id_name,
)
if assigned is not None:
    figure = with_earlier_customers(figure, earlier_points(assigned))
event = st.plotly_chart(
    figure,
    key="segments_map",
    on_select="rerun",
    selection_mode=("lasso", "box", "points"),
)
st.caption("Click a legend entry to isolate a segment; lasso or box to select customers.")

id_labels = [f"{prepared.id_name} {value}" for value in prepared.ids]
row_segments = row_segment_names(run.result.labels, names)
picked_segment = None
if view is not None and run.feedback is not None:
    calls = call_list(
        view,
        run.feedback,
        ids=prepared.ids,
        id_name=prepared.id_name,
        segment_names=row_segments,
        docs=run.docs,
    )
    st.subheader(f"Call list: {len(calls):,} customers with {show.lower()}")
    st.caption("Most negative first; click a column name to sort, select a row to reply.")
    picked = st.dataframe(
        calls,
        hide_index=True,
        key="segments_call_list",
        on_select="rerun",
        selection_mode="single-row",
    )
    st.download_button(
        "Call list (CSV)",
        to_csv_bytes(calls),
        call_list_filename(view),
        "text/csv",
        key="segments_call_list_csv",
    )
    candidates = [int(row) for row in calls.index]
    picked_rows = picked.selection.rows if picked is not None else []
    if picked_rows:
        row = candidates[picked_rows[0]]
        if st.session_state.get(state.CALL_PICKED) != row:
            # A new pick in the table chooses the customer below; after that, the box's.
            st.session_state[state.CALL_PICKED] = row
            st.session_state[state.CALL_REPLY_ROW] = row
        candidates = [row, *(r for r in candidates if r != row)]
        picked_segment = int(run.result.labels[row])
    reply_section(
        run.docs,
        candidates,
        id_labels,
        brand_voice=st.session_state.get(state.CAMPAIGN_VOICE, ""),
        key=state.CALL_REPLY,
        expanded=bool(picked_rows),
    )

selected = selected_rows(
    rows_from_selection(event),
    selection_of(event),
    run.result.coords,
    points[ROW_KEY],
    sampled=len(drawn) < len(points),
)
searched = bool(st.session_state[state.SEARCH_ROWS]) and not selected
if searched:
    selected = list(st.session_state[state.SEARCH_ROWS])
suggested_segment = most_common_segment(run.result.labels, selected)
if suggested_segment is None and picked_segment is not None and picked_segment >= 0:
    suggested_segment = picked_segment
if selected and searched and hits is not None:
    st.subheader(f"{len(selected):,} customers match “{plain(query.strip())}”")
    matches = matches_frame(
        hits, ids=prepared.ids, id_name=prepared.id_name, segment_names=row_segments, docs=run.docs
    )
    st.dataframe(matches, hide_index=True, key="segments_matches")
    st.download_button(
        "Matches (CSV)",
        to_csv_bytes(matches),
        "search_matches.csv",
        "text/csv",
        key="segments_matches_csv",
    )
elif selected:
    st.subheader(f"{len(selected):,} selected customers")
    st.dataframe(
        selected_customers(run.loaded.frame, selected, row_segments),
        hide_index=True,
        key="segments_selected",
    )
if selected:
    with st.form("segments_save"):
        label = st.text_input("Name for this group", key="segments_save_name")
        if st.form_submit_button("Save as a new segment"):
            if label.strip():
                st.session_state[state.SAVED_SELECTIONS][label.strip()] = [int(i) for i in selected]
                st.success(
                    f"Saved {len(selected)} customers as “{plain(label.strip())}”; "
                    "it joins the export."
                )
            else:
                st.warning("Give the group a name first.")
    reply_section(
        run.docs, selected, id_labels, brand_voice=st.session_state.get(state.CAMPAIGN_VOICE, "")
    )

saved = st.session_state[state.SAVED_SELECTIONS]
if saved:
    st.caption(
        "Saved groups: " + ", ".join(f"{name} ({len(rows)})" for name, rows in saved.items())
    )

st.header("Profiles")
if st.button(
    "Name segments with the language model",
    key="segments_lm_names",
    help="Distinct business names and one-line personas for all segments at once, from "
    "their traits; a name that claims what the segment does not show is replaced by the "
    "rule-based one. Editable.",
):
    try:
        generator = session_generator(st.session_state[state.LM_CONFIG])
        with st.spinner(f"Naming {len(profiles)} segments with {generator.model_id}…"):
            personas = name_segments(run.result.profiles, generator)
    except SegmenterError as error:
        st.error(str(error))
    else:
        keep_lm_names(personas, page="segments")
        st.rerun()
for profile in profiles:
    new_name = profile_card(
        profile,
        key=state.profile_key("segments", profile.segment_id),
        persona=st.session_state[state.PERSONAS].get(profile.segment_id, ""),
        named=st.session_state[state.LM_NAMES].get(profile.segment_id),
        drivers=describe_drivers(run.drivers.get(profile.segment_id, []), run.labels),
    )
    if new_name is not None and new_name != profile.name:
        st.session_state[state.SEGMENT_NAMES][profile.segment_id] = new_name
        st.rerun()

with st.sidebar:
    campaign_panel(profiles, suggested_segment)
