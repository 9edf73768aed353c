"""The saved segmentation (``saved_model``) and ``assign``: identity on the fitted table,
refusal of damaged or crafted models, and what happens to new tables that differ."""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmenter import pipeline, reduce
from segmenter.assign import assign_table, write_assigned
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.embed_stage import FastTextModel
from segmenter.embedding.lexical import fit_table_topics
from segmenter.embedding.teacher import fit_alignment
from segmenter.errors import InputError
from segmenter.ingest import LoadedTable, detect_schema, load_table
from segmenter.model_codec import (
    Packer,
    Unpacker,
    pack_lexical,
    pack_pca,
    unpack_lexical,
    unpack_pca,
)
from segmenter.runs import open_run
from segmenter.saved_model import ARRAYS_FILE, MODEL_DIR, MODEL_FILE, read_model
from tests.conftest import FakeEmbedder, make_customers


def _customers(n_per_theme: int = 40, seed: int = 0) -> pd.DataFrame:
    frame = make_customers(n_per_theme, seed)
    # Every row distinct in its columns too, so no two rows share one position by chance.
    frame["spend"] = [f"{100 + i * 1.37:.2f}" for i in range(len(frame))]
    return frame


def _segment(tmp_path: Path, frame: pd.DataFrame) -> tuple[pipeline.SegmentationRun, Path]:
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    loaded = load_table(path, path.name)
    config = EmbedConfig(model="fake", sentiment_model="fake", cache_dir=tmp_path / "cache")
    run = pipeline.run_segmentation(loaded, detect_schema(loaded.frame), config, ClusterConfig())
    folder = tmp_path / "run"
    pipeline.write_outputs(run, folder)
    return run, folder


def _config(tmp_path: Path) -> EmbedConfig:
    return EmbedConfig(model="fake", sentiment_model="fake", cache_dir=tmp_path / "cache")


def _renumbered(frame: pd.DataFrame) -> pd.DataFrame:
    fresh = frame.copy()
    fresh["customer_id"] = [f"N{i:05d}" for i in range(len(fresh))]
    return fresh


@pytest.mark.parametrize("fit_rows", [None, 60])
def test_assigning_the_fitted_table_gives_back_its_segments_and_map(
    fake_embedder: FakeEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fit_rows: int
) -> None:
    """Both reductions: UMAP on every row, and (``fit_rows``) on a sample with the other rows
    placed from their neighbours, as above ``UMAP_FIT_ROWS`` rows."""
    if fit_rows is not None:
        monkeypatch.setattr(reduce, "UMAP_FIT_ROWS", fit_rows)
    frame = _customers(60)
    run, folder = _segment(tmp_path, frame)
    model = read_model(folder)
    assert len(model.sample_ids) == (fit_rows or len(frame))
    loaded = LoadedTable(frame.astype(str).astype(object), run.loaded.report)
    assigned = assign_table(run.loaded, model, _config(tmp_path))
    assert adjusted_rand_score(run.result.labels, assigned.labels) == 1.0
    np.testing.assert_allclose(assigned.coords, run.result.coords, atol=1e-4)
    assert assigned.known.all()  # every customer is unchanged
    # The placement alone, with no customer recognised by ID, lands every row where it was.
    fresh = assign_table(
        LoadedTable(_renumbered(loaded.frame), run.loaded.report), model, _config(tmp_path)
    )
    assert not fresh.known.any()
    assert adjusted_rand_score(run.result.labels, fresh.labels) == 1.0
    np.testing.assert_allclose(fresh.coords, run.result.coords, atol=1e-4)
    assert fresh.poor_share < 0.05


def test_the_assigned_folder_opens_as_a_run_with_every_row_and_column(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    frame = _customers()
    run, folder = _segment(tmp_path, frame)
    new = _renumbered(frame).iloc[::2].reset_index(drop=True)
    new["note"] = "kept"
    assigned = assign_table(
        LoadedTable(new.astype(object), run.loaded.report), read_model(folder), _config(tmp_path)
    )
    out = tmp_path / "assigned"
    paths = write_assigned(assigned, folder, out)
    written = pd.read_csv(paths["segments"], dtype=str, keep_default_na=False)
    assert len(written) == len(new)
    assert written["customer_id"].tolist() == new["customer_id"].tolist()
    for column in ("segment_id", "segment_name", "x", "y", "distance", "fits_poorly", "note"):
        assert column in written.columns
    record = json.loads(paths["run"].read_text())
    assert record["assigned"]["model"]["run"] == str(folder)
    assert 0.0 <= record["assigned"]["fits_poorly_share"] <= 1.0
    names = {p.segment_id: p.name for p in run.result.profiles}
    opened = open_run(out)
    assert {p.segment_id: p.name for p in opened.result.profiles}.items() <= names.items()
    assert read_model(out).n_segments == len(names)  # the folder carries the model on


def test_new_customers_unlike_the_old_ones_fit_poorly(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    frame = _customers()
    run, folder = _segment(tmp_path, frame)
    odd = _renumbered(frame)
    odd["feedback"] = [
        f"Completely unrelated remark number {i} about weather" for i in range(len(odd))
    ]
    odd["spend"] = "9999"
    assigned = assign_table(
        LoadedTable(odd.astype(object), run.loaded.report), read_model(folder), _config(tmp_path)
    )
    assert assigned.poor_share > 0.5
    assert "segmenting this table anew" in assigned.verdict()
    same = assign_table(run.loaded, read_model(folder), _config(tmp_path))
    assert "still describe" in same.verdict()


def test_a_missing_or_retyped_column_is_refused_in_one_line(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    run, folder = _segment(tmp_path, _customers())
    model = read_model(folder)
    frame = run.loaded.frame
    with pytest.raises(InputError, match="lacks 'spend'") as missing:
        assign_table(LoadedTable(frame.drop(columns=["spend"]), run.loaded.report), model)
    assert "\n" not in str(missing.value)
    retyped = frame.copy()
    retyped["spend"] = "unknown"
    with pytest.raises(InputError, match="'spend' held numbers") as typed:
        assign_table(LoadedTable(retyped, run.loaded.report), model)
    assert "\n" not in str(typed.value)


def test_new_categories_empty_text_and_another_encoding_are_handled_with_notes(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    run, folder = _segment(tmp_path, _customers())
    model = read_model(folder)
    new = _renumbered(run.loaded.frame)
    new.loc[:9, "plan"] = "Platinum"
    new.loc[:19, "feedback"] = ""
    report = run.loaded.report

    loaded = LoadedTable(new, replace(report, encoding="cp1252"))
    assigned = assign_table(loaded, model, _config(tmp_path))
    notes = " ".join(assigned.notes)
    assert "plan: 10 rows" in notes and "'Platinum'" in notes
    assert "20 rows have no text" in notes
    assert "cp1252" in notes
    assert len(assigned.labels) == len(new)
    assert (assigned.labels >= 0).all()  # rows without text are placed by their columns


def _damaged(folder: Path) -> str:
    with pytest.raises(InputError) as refused:
        read_model(folder)
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_an_edited_truncated_or_crafted_model_is_refused_without_running_code(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    _, folder = _segment(tmp_path, _customers())
    model_json = folder / MODEL_DIR / MODEL_FILE
    arrays = folder / MODEL_DIR / ARRAYS_FILE
    original_json, original_arrays = model_json.read_text(), arrays.read_bytes()

    edited = json.loads(original_json)
    edited["model"]["names"]["0"] = "Renamed by hand"
    model_json.write_text(json.dumps(edited))
    assert "damaged or were edited" in _damaged(folder)
    model_json.write_text(original_json)

    arrays.write_bytes(original_arrays[: len(original_arrays) // 2])
    assert "damaged or were edited" in _damaged(folder)

    # A pickle that would write a file when unpickled, in place of the arrays, with the
    # digest made to match: numpy refuses it, and the file is never written.
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))

    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
    crafted = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(crafted, "w") as archive:
        for key in np.load(io.BytesIO(original_arrays)).files:
            archive.writestr(f"{key}.npy", buffer.getvalue())
    from segmenter.saved_model import _digest

    body = json.dumps(json.loads(original_json)["model"], ensure_ascii=False, sort_keys=True)
    arrays.write_bytes(crafted.getvalue())
    model_json.write_text(
        json.dumps({"digest": _digest(body, crafted.getvalue()), "model": json.loads(body)})
    )
    assert "damaged or were edited" in _damaged(folder)
    arrays.write_bytes(pickle.dumps(Payload()))
    assert "damaged or were edited" in _damaged(folder)
    assert not marker.exists()


def test_a_model_of_another_format_names_the_version_that_made_it(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    _, folder = _segment(tmp_path, _customers())
    model_json = folder / MODEL_DIR / MODEL_FILE
    saved = json.loads(model_json.read_text())
    saved["model"]["format"] = 0
    saved["model"]["made_by"]["segmenter"] = "0.0.9"
    model_json.write_text(json.dumps(saved))
    message = _damaged(folder)
    assert "made by Segmenter 0.0.9 (model format 0)" in message
    assert "segment the table again" in message
    with pytest.raises(InputError, match="holds no saved segments"):
        read_model(tmp_path)


def test_the_fast_modes_topics_and_alignment_come_back_to_the_last_bit() -> None:
    texts = [
        f"parcel {w} late refund courier {i % 7}"
        for i, w in enumerate(["red", "blue", "green"] * 20)
    ]
    has_text = np.ones(len(texts), dtype=bool)
    topics, lexical = fit_table_topics(texts, has_text, dims=8)
    vectors = np.random.default_rng(0).normal(size=(len(texts), 6)).astype(np.float32)
    alignment = fit_alignment(
        np.hstack([vectors, topics]), np.random.default_rng(1).normal(size=(len(texts), 4))
    )
    model = FastTextModel(lexical, alignment)
    packer = Packer()
    plain = json.loads(json.dumps(pack_lexical(lexical, packer)))
    rebuilt = FastTextModel(unpack_lexical(plain, Unpacker(packer.arrays)), alignment)
    np.testing.assert_array_equal(
        rebuilt.features(texts, vectors, has_text), model.features(texts, vectors, has_text)
    )


def test_a_rebuilt_pca_projects_as_the_fitted_one() -> None:
    from sklearn.decomposition import PCA

    rows = np.random.default_rng(0).normal(size=(200, 30)).astype(np.float32)
    pca = PCA(5, random_state=0).fit(rows)
    packer = Packer()
    rebuilt = unpack_pca(pack_pca(pca, packer), Unpacker(packer.arrays))
    np.testing.assert_array_equal(rebuilt.transform(rows), pca.transform(rows))


def test_the_command_line_assigns_a_table_and_refuses_a_bad_one_in_one_line(
    fake_embedder: FakeEmbedder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from segmenter.cli import main

    frame = _customers()
    _, folder = _segment(tmp_path, frame)
    new = tmp_path / "new.csv"
    _renumbered(frame).to_csv(new, index=False)
    out = tmp_path / "assigned"
    assert main(["assign", str(new), "--run", str(folder), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(frame)} rows placed into" in printed and "fit the saved segments" in printed
    assert len(pd.read_csv(out / "segments.csv")) == len(frame)
    frame.drop(columns=["feedback"]).to_csv(new, index=False)
    assert main(["assign", str(new), "--run", str(folder), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: The new table lacks 'feedback'") and "\n" not in error


def test_unchanged_customers_keep_their_place_without_being_embedded_again(
    fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    frame = _customers()
    run, folder = _segment(tmp_path, frame)
    model = read_model(folder)
    later = frame.copy().astype(object)
    later.loc[0, "feedback"] = "Completely different words about the weather today"
    later.loc[1, "spend"] = "999.00"
    newcomer = later.iloc[[5]].assign(customer_id="N0001")
    later = pd.concat([later, newcomer], ignore_index=True)
    calls = len(fake_embedder.calls)
    uncached = replace(_config(tmp_path), use_cache=False)
    assigned = assign_table(LoadedTable(later, run.loaded.report), model, uncached)
    embedded = [t for batch in fake_embedder.calls[calls:] for t in batch]
    # Only the changed rows and the new one are embedded again.
    assert sorted(embedded) == sorted(later.loc[[0, 1, len(later) - 1], "feedback"])
    assert assigned.known[2:-1].all() and not assigned.known[[0, 1, -1]].any()
    np.testing.assert_array_equal(assigned.labels[2:-1], run.result.labels[2:])
    np.testing.assert_array_equal(assigned.coords[2:-1], run.result.coords[2:])
    assert "customers are unchanged" in " ".join(assigned.notes)
