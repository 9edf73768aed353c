"""Command line: ``python -m segmenter segment INPUT --out DIR``, the same pipeline as the app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from segmenter.config import ClusterConfig, EmbedConfig
from segmenter.errors import SegmenterError


def _n_segments(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--k takes a whole number or 'auto', not {value!r}"
        ) from None
    if number < 1:
        raise argparse.ArgumentTypeError("--k must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m segmenter", description="Customer segments from text and columns."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    segment = commands.add_parser("segment", help="segment a customer table")
    segment.add_argument("input", type=Path, help="CSV, TSV, Excel .xlsx or Parquet file")
    segment.add_argument("--out", type=Path, required=True, help="folder for the results")
    segment.add_argument("--k", type=_n_segments, default="auto", help="segments, or 'auto'")
    segment.add_argument("--text-cols", default=None, help="comma-separated free-text columns")
    segment.add_argument("--embedder", default=None, help="embedding model name, or 'auto'")
    segment.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    segment.add_argument(
        "--text-weight", type=float, default=None, help="share of text vs columns, 0..1"
    )
    return parser


def _segment(args: argparse.Namespace) -> int:
    from segmenter.ingest import Role, detect_schema, load_table  # noqa: PLC0415 - fast --help
    from segmenter.pipeline import run_segmentation, write_outputs  # noqa: PLC0415

    if not args.input.is_file():
        raise SegmenterError(
            f"{args.input} is not a file: give the path of a CSV, Excel or Parquet file."
        )
    loaded = load_table(args.input, args.input.name)
    schema = detect_schema(loaded.frame)
    if args.text_cols:
        wanted = [c.strip() for c in args.text_cols.split(",") if c.strip()]
        roles: dict[str, Role] = {c: "ignored" for c in schema.text_columns if c not in wanted}
        roles.update(dict.fromkeys(wanted, "text"))
        schema = schema.with_roles(roles)
    embed_config = EmbedConfig.from_env()
    if args.embedder:
        embed_config = replace(embed_config, model=args.embedder)
    cluster_config = replace(ClusterConfig(), n_segments=args.k, random_state=args.seed)
    if args.text_weight is not None:
        cluster_config = replace(cluster_config, text_weight=args.text_weight)

    def progress(message: str, fraction: float) -> None:
        print(f"\r{message} ({fraction:.0%})".ljust(80), end="", file=sys.stderr, flush=True)

    run = run_segmentation(loaded, schema, embed_config, cluster_config, progress)
    paths = write_outputs(run, args.out)
    print(file=sys.stderr)
    for note in loaded.report.notes:
        print(f"note: {note}", file=sys.stderr)
    sizes = ", ".join(f"{p.segment_id}: {p.name} ({p.size})" for p in run.result.profiles)
    print(f"{len(run.result.profiles)} segments — {sizes}")
    print(f"wrote {paths['segments']}, {paths['profiles']}, {paths['run']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a user error prints one line on stderr and returns exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "segment":
            return _segment(args)
    except SegmenterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1
