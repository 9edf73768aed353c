"""The Ray engine on a local Ray cluster started in the test process, against the local engine
on the same data and seed, with the bundled MiniLM (Ray's workers cannot see a fake model
registered in this process)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmenter import fusion, kmeans, reduce
from segmenter.cli import main
from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.distributed import segment_on_ray
from segmenter.embedding import teacher
from segmenter.embedding.static import STATIC_MODEL_ID
from tests.conftest import make_customers
from tests.shapes import marketing_campaign

ray = pytest.importorskip("ray")  # the optional extra (requirements-ray.txt)
pytestmark = pytest.mark.ray

ADDED = ["segment_id", "segment_name", "x", "y", "sentiment", "sentiment_score", "urgent_flags"]


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for this module's runs and Ray's workers: the fast mode's static
    model is distilled once (40 s), not once per test and once more per worker."""
    return tmp_path_factory.mktemp("ray_cache")


@pytest.fixture(scope="module", autouse=True)
def local_cluster(shared_cache: Path) -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {"SEGMENTER_CACHE_DIR": str(shared_cache)}},
    )
    yield
    ray.shutdown()


@pytest.fixture(autouse=True)
def cache_of_the_cluster(shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMENTER_CACHE_DIR", str(shared_cache))


def write_parts(frame: pd.DataFrame, folder: Path, n_parts: int = 3, sep: str = ",") -> Path:
    folder.mkdir(parents=True)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), n_parts)):
        frame.iloc[rows].to_csv(folder / f"part-{i:02d}.csv", index=False, sep=sep)
    return folder


def customers(n_per_theme: int = 60) -> pd.DataFrame:
    return make_customers(n_per_theme).sample(frac=1.0, random_state=1).reset_index(drop=True)


def both_engines(
    tmp_path: Path, frame: pd.DataFrame, *args: str, sep: str = ","
) -> tuple[pd.DataFrame, ...]:
    frame.to_csv(tmp_path / "all.csv", index=False, sep=sep)
    parts = write_parts(frame, tmp_path / "parts", sep=sep)
    assert (
        main(["segment", str(tmp_path / "all.csv"), "--out", str(tmp_path / "local"), *args]) == 0
    )
    assert (
        main(["segment", str(parts), "--out", str(tmp_path / "ray"), "--engine", "ray", *args]) == 0
    )
    local = pd.read_csv(tmp_path / "local" / "segments.csv", dtype=str, keep_default_na=False)
    csv = tmp_path / "ray" / "segments.csv"
    on_ray = pd.read_csv(csv, dtype=str, keep_default_na=False) if csv.exists() else pd.DataFrame()
    return local, on_ray


def assert_same_segments(frame: pd.DataFrame, local: pd.DataFrame, on_ray: pd.DataFrame) -> None:
    assert len(on_ray) == len(frame)
    pd.testing.assert_frame_equal(on_ray[list(frame.columns)], frame.astype(str))
    assert adjusted_rand_score(local["segment_id"], on_ray["segment_id"]) == 1.0
    assert (local["segment_id"] == on_ray["segment_id"]).all()  # the same numbering too
    assert (local["segment_name"] == on_ray["segment_name"]).all()
    extra = [c for c in ("sentiment", "urgent_flags") if c in local.columns]
    for column in extra:
        assert (local[column] == on_ray[column]).all()
    for axis in ["x", "y"] + (["sentiment_score"] if extra else []):
        np.testing.assert_allclose(on_ray[axis].astype(float), local[axis].astype(float), atol=1e-4)


def test_same_segments_as_the_local_engine(tmp_path: Path) -> None:
    frame = customers()
    local, on_ray = both_engines(tmp_path, frame, "--k", "auto")
    assert_same_segments(frame, local, on_ray)
    assert list(on_ray.columns) == [*frame.columns, *ADDED]
    run = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert run["engine"]["name"] == "ray" and run["input"]["rows"] == 180
    assert len(run["engine"]["parts"]) == 3
    profiles = json.loads((tmp_path / "ray" / "profiles.json").read_text())
    assert profiles == json.loads((tmp_path / "local" / "profiles.json").read_text())
    assert any(p["offers"] for p in profiles) and all(p["feedback"] for p in profiles)
    local_run = json.loads((tmp_path / "local" / "run.json").read_text())
    assert run["feedback"] == local_run["feedback"]
    for key in ("drivers", "bounded_columns", "segment_by", "segment_dates"):
        assert run["result"][key] == local_run["result"][key], key


def test_same_segments_when_every_model_learns_from_a_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Samples smaller than the table, as on a large one: the fusion learns from 100 of the
    180 rows, UMAP from 60 (the rest placed by their neighbours), KMeans from 50."""
    monkeypatch.setattr(fusion, "FIT_ROWS", 100)
    monkeypatch.setattr(reduce, "UMAP_FIT_ROWS", 60)
    monkeypatch.setattr(kmeans, "KMEANS_FIT_ROWS", 50)
    frame = customers()
    local, on_ray = both_engines(tmp_path, frame, "--k", "3")
    assert_same_segments(frame, local, on_ray)


def test_same_segments_in_the_fast_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The static model in the actors; the table's topics, and the alignment with MiniLM
    on half the texts, learnt on the driver."""
    monkeypatch.setattr(teacher, "TEACHER_SHARE", 0.5)
    monkeypatch.setattr(teacher, "TEACHER_MIN_TEXTS", 20)
    frame = customers()
    local, on_ray = both_engines(tmp_path, frame, "--k", "3", "--embed-mode", "fast")
    assert_same_segments(frame, local, on_ray)
    run = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert run["embedding"]["model_id"] == STATIC_MODEL_ID
    assert "lexical" in run["seconds"]


def test_a_large_export_is_written_in_parquet_parts_that_open_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from segmenter.distributed import writing
    from segmenter.runs import open_run

    monkeypatch.setattr(writing, "CSV_MAX_ROWS", 100)  # as above a million rows
    monkeypatch.setattr(writing, "PARQUET_PART_ROWS", 64)
    frame = customers()
    local, _ = both_engines(tmp_path, frame, "--k", "3", "--embed-mode", "fast")
    parts = sorted((tmp_path / "ray" / "segments").glob("*.parquet"))
    assert [p.name for p in parts] == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    on_ray = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    assert list(on_ray["customer_id"]) == list(frame["customer_id"])
    assert list(on_ray["segment_id"]) == [int(v) for v in local["segment_id"]]
    opened = open_run(tmp_path / "ray")
    assert list(opened.result.labels) == [int(v) for v in local["segment_id"]]
    assert opened.parameters()["engine"]["name"] == "ray"


def test_a_table_without_text_with_dates_across_parts(tmp_path: Path) -> None:
    """Numbers, a plan and a date column read day-first: the first part's dates alone
    (1st to 12th of each month) could be read either way, a later part settles it."""
    rng = np.random.default_rng(0)
    days = [f"{d:02d}/{m:02d}/2024" for m in range(1, 13) for d in range(1, 13)]
    days += [f"{d:02d}/{m:02d}/2025" for m in range(1, 13) for d in range(13, 29)]
    n = len(days)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "age": rng.integers(18, 80, n).astype(str),
            "spend": rng.gamma(2.0, 30.0, n).round(2).astype(str),
            "plan": rng.choice(["basic", "plus", "premium"], n),
            "signup": days,
        }
    )
    local, on_ray = both_engines(tmp_path, frame, "--k", "3")
    assert_same_segments(frame, local, on_ray)
    assert json.loads((tmp_path / "ray" / "profiles.json").read_text()) == json.loads(
        (tmp_path / "local" / "profiles.json").read_text()
    )


def test_same_segments_on_a_campaign_response_table(tmp_path: Path) -> None:
    """A table shaped like the public marketing-campaign export: tab-separated, no text, a
    day-first date column in the middle of the numbers and seven 0/1 label columns. The Ray
    engine once named its numeric columns with the dates last (so the days were read as
    Recency and each later column as the one before it) and segmented on the label
    columns, which the local engine only profiles: ARI 0.29 on this shape."""
    frame = marketing_campaign(600)
    local, on_ray = both_engines(tmp_path, frame, sep="\t")
    assert_same_segments(frame, local, on_ray)
    assert json.loads((tmp_path / "ray" / "profiles.json").read_text()) == json.loads(
        (tmp_path / "local" / "profiles.json").read_text()
    )
    run = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert (
        run["result"]["k_choice"]
        == json.loads((tmp_path / "local" / "run.json").read_text())["result"]["k_choice"]
    )


def test_a_one_segment_run_writes_valid_json(tmp_path: Path) -> None:
    """One segment has no silhouette (NaN): run.json writes it as null, as the local engine
    does, not as the bare NaN that JSON readers other than Python's refuse."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    parts = write_parts(marketing_campaign(120), tmp_path / "parts", sep="\t")
    assert (
        main(["segment", str(parts), "--out", str(tmp_path / "ray"), "--engine", "ray", "--k", "1"])
        == 0
    )
    run = json.loads((tmp_path / "ray" / "run.json").read_text(), parse_constant=refuse)
    assert run["result"]["n_segments"] == 1 and run["result"]["silhouette"] is None


def test_a_bad_part_is_reported_and_the_others_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = customers(20)
    parts = write_parts(frame, tmp_path / "parts")
    (parts / "part-03.csv").write_bytes(b"\x00\x01\x02 not a table \xff\xfe" * 40)
    frame.rename(columns={"spend": "amount"}).head(5).to_csv(parts / "part-04.csv", index=False)
    code = main(["segment", str(parts), "--out", str(tmp_path / "out"), "--engine", "ray"])
    assert code == 1
    err = capsys.readouterr().err
    assert "part-03.csv" in err and "part-04.csv" in err and "same header" in err
    out = pd.read_csv(tmp_path / "out" / "segments.csv", dtype=str, keep_default_na=False)
    assert list(out["customer_id"]) == list(frame["customer_id"])
    assert (out["segment_id"].astype(int) >= 0).all()


def _embedding_workers() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"TextEmbedder" in command:
                found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_killed_embedding_actor_is_replaced_and_no_row_is_lost(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = "order parcel refund price plan support late app login screen card fee".split()
    frame = customers(800)
    frame["feedback"] = [
        f"{text} {' '.join(rng.choice(words, 6))} {i}" for i, text in enumerate(frame["feedback"])
    ]
    parts = write_parts(frame, tmp_path / "parts", n_parts=4)
    killed: list[tuple[int, float]] = []
    started = time.perf_counter()

    def kill_one_worker_once_it_embeds() -> None:
        while time.perf_counter() - started < 300 and not killed:
            for pid in _embedding_workers():
                try:
                    busy = _cpu_seconds(pid) > 8.0  # the model is loaded and batches flow
                except OSError:
                    continue
                if busy:
                    os.kill(pid, signal.SIGKILL)
                    killed.append((pid, time.perf_counter() - started))
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_worker_once_it_embeds)
    killer.start()
    run = segment_on_ray(
        parts,
        tmp_path / "out",
        replace(EmbedConfig.from_env(), sentiment_model="none"),  # one embedding pass only
        ClusterConfig(n_segments=3),
    )
    killer.join()
    assert killed, "no embedding worker was found to kill"
    embedding_ended = run.timings["read"] + run.timings["embed"]
    assert killed[0][1] < embedding_ended, "the worker was killed after the embedding"
    out = pd.read_csv(run.paths["segments"], dtype=str, keep_default_na=False)
    assert list(out["customer_id"]) == list(frame["customer_id"])
    assert (out["segment_id"].astype(int) >= 0).all()


def test_assigning_the_fitted_table_gives_back_its_segments_on_both_engines(
    tmp_path: Path,
) -> None:
    """A Ray run saves its model; ``assign --engine ray`` of the same parts, and the local
    ``assign`` of the same table, give back its segments and map."""
    frame = customers()
    parts = write_parts(frame, tmp_path / "parts")
    frame.to_csv(tmp_path / "all.csv", index=False)
    assert main(["segment", str(parts), "--out", str(tmp_path / "ray"), "--engine", "ray"]) == 0
    fitted = pd.read_csv(tmp_path / "ray" / "segments.csv", dtype=str, keep_default_na=False)
    for engine, source in (("ray", parts), ("local", tmp_path / "all.csv")):
        out = tmp_path / f"assigned_{engine}"
        args = ["assign", str(source), "--run", str(tmp_path / "ray"), "--out", str(out)]
        assert main([*args, "--engine", engine]) == 0
        placed = pd.read_csv(out / "segments.csv", dtype=str, keep_default_na=False)
        assert len(placed) == len(frame)
        pd.testing.assert_frame_equal(placed[list(frame.columns)], frame.astype(str))
        assert adjusted_rand_score(fitted["segment_id"], placed["segment_id"]) == 1.0
        assert (fitted["segment_name"] == placed["segment_name"]).all()
        for axis in ("x", "y"):
            np.testing.assert_allclose(
                placed[axis].astype(float), fitted[axis].astype(float), atol=1e-4
            )
        assert {"distance", "fits_poorly"} <= set(placed.columns)
        record = json.loads((out / "run.json").read_text())
        assert record["assigned"]["recognised_customers"] == len(frame)
