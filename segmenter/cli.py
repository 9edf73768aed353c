"""Command line, the same pipeline as the app: ``python -m segmenter segment INPUT --out DIR``,
``draft DIR --segment N --channel sms``, ``predict``, ``assign NEW --run DIR --out OUT`` (a new
table into saved segments), ``compare RUN_A RUN_B --out DIR`` (who moved) and ``results RUN
--out DIR`` (campaign results per segment)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from segmenter.campaign import AUTO_LANGUAGE, CHANNELS, GOALS, BrandProfile
from segmenter.campaign.brief import DEFAULT_SMS_OPT_OUT
from segmenter.config import SEGMENT_BY_CHOICES, ClusterConfig, EmbedConfig, LMConfig
from segmenter.errors import SegmenterError
from segmenter.export import to_csv_bytes

if TYPE_CHECKING:
    import pandas as pd

    from segmenter.campaign import SegmentPersona
    from segmenter.ingest import LoadedTable, Schema
    from segmenter.pipeline import SegmentationRun


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


def _segment_ids(value: str) -> list[int]:
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give segment ids as whole numbers separated by commas, not {value!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m segmenter", description="Customer segments from text and columns."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    segment = commands.add_parser("segment", help="segment a customer table")
    segment.add_argument(
        "input",
        type=Path,
        help="CSV, TSV, Excel .xlsx or Parquet file (with --engine ray, also a folder of them)",
    )
    segment.add_argument("--out", type=Path, required=True, help="folder for the results")
    segment.add_argument("--k", type=_n_segments, default="auto", help="segments, or 'auto'")
    segment.add_argument("--text-cols", default=None, help="comma-separated free-text columns")
    segment.add_argument("--embedder", default=None, help="embedding model name, or 'auto'")
    segment.add_argument(
        "--embed-mode",
        choices=["auto", "accurate", "fast"],
        default=None,
        help="fast: MiniLM distilled into a static model (auto: for 20,000+ texts on a CPU)",
    )
    segment.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    segment.add_argument(
        "--text-weight", type=float, default=None, help="share of text vs columns, 0..1"
    )
    segment.add_argument(
        "--segment-by",
        choices=list(SEGMENT_BY_CHOICES),
        default="both",
        help="what the segments are built from: both (text and columns, the default), text "
        "(text only) or columns (numeric, date and categorical columns only)",
    )
    segment.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="COLUMN",
        help="leave a numeric, date or categorical column out of the segmentation (it is "
        "still profiled); repeat, or separate names with commas",
    )
    segment.add_argument(
        "--with-dates",
        action="store_true",
        help="segment on date columns too (as days since the earliest); by default they are "
        "only profiled",
    )
    segment.add_argument(
        "--transactions",
        action="store_true",
        help="INPUT is a transaction log: segment one row per customer (RFM, products, "
        "lifecycle stage); rows without a customer go to unattributed_transactions.csv",
    )
    segment.add_argument(
        "--call-lists",
        action="store_true",
        help="with feedback text: also write call_list_negative.csv and call_list_urgent.csv, "
        "the Segments page's call lists (most negative first)",
    )
    segment.add_argument(
        "--lm-names",
        action="store_true",
        help="name the segments and write one-line personas with the language model, as the "
        "Segments page's button does; a name that claims what its segment does not show "
        "keeps the rule-based one (see lm_names.json)",
    )
    segment.add_argument(
        "--lm-model",
        default=None,
        help="with --lm-names: registry name (qwen2.5-coder-1.5b, smollm2-135m) or 'openai' "
        "(default: SEGMENTER_LM, else the bundled default)",
    )
    segment.add_argument(
        "--previous",
        type=Path,
        default=None,
        metavar="RUN",
        help="an earlier run folder: segments that persist keep its numbers, names and "
        "colours (matched by shared customer IDs, else by the earlier run's saved model)",
    )
    segment.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="ray: run on a Ray cluster (INPUT may be a folder of parts; needs "
        "requirements-ray.txt)",
    )
    segment.add_argument(
        "--address",
        default=None,
        help="with --engine ray: the cluster ('auto' for the one this machine belongs to, or "
        "HEAD_IP:6379); default: a cluster started in this process",
    )

    draft = commands.add_parser(
        "draft",
        help="draft campaign copy for one segment of a `segment --out DIR` result",
        description="Prints one JSON object per draft: the copy's fields, the checks, the model "
        "and the seconds taken. Server keys come from SEGMENTER_LM_API_KEY, never the command "
        "line.",
    )
    draft.add_argument("dir", type=Path, help="folder written by `segment --out`")
    draft.add_argument("--segment", type=int, required=True, help="segment id (see profiles.json)")
    draft.add_argument("--channel", choices=list(CHANNELS), default="email")
    draft.add_argument("--goal", choices=list(GOALS), default="win_back")
    draft.add_argument("--tone", default="friendly")
    draft.add_argument(
        "--language", default=AUTO_LANGUAGE, help="language code or name (default: the segment's)"
    )
    draft.add_argument("--offer", default="", help="the offer or product to promote")
    draft.add_argument("--brand-voice", default="", help="brand-voice notes (the brand's voice)")
    draft.add_argument("--brand-name", default="", help="the brand the copy speaks for")
    draft.add_argument("--sender-name", default="", help="who signs an email")
    draft.add_argument("--sign-off", default="", help="an email's closing line")
    draft.add_argument(
        "--banned-word", action="append", default=[], help="a word the copy must never use"
    )
    draft.add_argument(
        "--sms-opt-out",
        default=DEFAULT_SMS_OPT_OUT,
        help=f"added to an SMS when it fits (default {DEFAULT_SMS_OPT_OUT!r}; '' for none)",
    )
    draft.add_argument("--variants", type=int, default=1, help="variants for A/B tests (1-5)")
    draft.add_argument(
        "--model",
        default=None,
        help="registry name (qwen2.5-coder-1.5b, smollm2-135m), 'gguf' or 'openai' "
        "(default: SEGMENTER_LM, else the bundled default)",
    )
    draft.add_argument("--gguf", type=Path, default=None, help="GGUF file for --model gguf")
    draft.add_argument("--base-url", default=None, help="server for --model openai")
    draft.add_argument("--api-model", default=None, help="model name on that server")

    predict = commands.add_parser(
        "predict",
        help="cross-validated churn or propensity scores from a yes/no column",
        description="Writes DIR/scores.csv (every row, original columns, plus risk) and "
        "DIR/metrics.json (ROC AUC, PR AUC and F1 per model and feature set).",
    )
    predict.add_argument("input", type=Path, help="CSV, TSV, Excel .xlsx or Parquet file")
    predict.add_argument("--label", required=True, help="the yes/no column to predict")
    predict.add_argument("--positive", default=None, help="the label value that counts as yes")
    predict.add_argument("--out", type=Path, required=True, help="folder for the results")
    predict.add_argument("--embedder", default=None, help="embedding model name, or 'auto'")
    predict.add_argument("--seed", type=int, default=0, help="random seed for the folds")

    assign = commands.add_parser(
        "assign",
        help="place a new table's customers into a saved run's segments",
        description="Reads NEW (same columns as the table the run was made from), places "
        "every row on the run's map and into its segments, and writes DIR/segments.csv (all "
        "rows, original columns, segment_id, segment_name, x, y, distance, fits_poorly), "
        "profiles.json, space.npy, run.json (the model used, the fit check, which segments "
        "grow or shrink) and model/: a run folder the dashboard opens like any other.",
    )
    assign.add_argument("input", type=Path, help="the new table (CSV, TSV, Excel, Parquet)")
    assign.add_argument(
        "--run", type=Path, required=True, help="the run folder whose segments to use"
    )
    assign.add_argument("--out", type=Path, required=True, help="folder for the results")
    assign.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="ray: place the rows on a Ray cluster (INPUT may be a folder of parts)",
    )
    assign.add_argument(
        "--address", default=None, help="with --engine ray: the cluster, as for `segment`"
    )

    compare = commands.add_parser(
        "compare",
        help="where the customers of one run's segments are in a later run",
        description="Follows the customers in both runs by their ID: writes DIR/movement.csv "
        "(customers per pair of segments), DIR/comparison.json (which segment of B continues "
        "which of A; per segment stayed, joined and left; vanished and new segments) and "
        "DIR/movers.csv (customers who moved from a valuable segment to an at-risk one).",
    )
    compare.add_argument("run_a", type=Path, help="the earlier run folder (`segment --out`)")
    compare.add_argument("run_b", type=Path, help="the later run folder")
    compare.add_argument("--out", type=Path, required=True, help="folder for the results")
    compare.add_argument(
        "--from",
        dest="from_ids",
        metavar="IDS",
        type=_segment_ids,
        default=None,
        help="comma-separated segment ids of run A that movers come from (default: the "
        "valuable ones, by spend)",
    )
    compare.add_argument(
        "--to",
        dest="to_ids",
        metavar="IDS",
        type=_segment_ids,
        default=None,
        help="comma-separated segment ids of run B that movers go to (default: the at-risk "
        "ones, by churn or negative feedback)",
    )

    results = commands.add_parser(
        "results",
        help="campaign results per segment of a saved run: rates, variants, uplift, targets",
        description="Measures past campaigns per segment of RUN_DIR, from the run's own yes/no "
        "outcome columns (--outcomes, or those proposed from the table) or a results file "
        "joined by customer ID (--file). Writes DIR/rates.csv, comparisons.csv, targets.csv, "
        "results.json, uplift.csv (with a control group) and unmatched.csv (result rows that "
        "match no customer).",
    )
    results.add_argument(
        "run", type=Path, metavar="RUN_DIR", help="the run folder (`segment --out`)"
    )
    results.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder for the results"
    )
    results.add_argument(
        "--outcomes",
        default=None,
        metavar="COLS",
        help="comma-separated yes/no columns of the run's table, one campaign each "
        "(default: those that look like past-campaign outcomes)",
    )
    results.add_argument(
        "--file", type=Path, default=None, help="a results file (CSV, TSV, Excel, Parquet)"
    )
    for role, what in (
        ("id", "the column of customer IDs"),
        ("campaign", "the campaign's column (none: one campaign, named as the file)"),
        ("outcome", "outcome columns, comma-separated (opened, converted, revenue …)"),
        ("variant", "the variant's column (control or holdout: held out of the send)"),
        ("channel", "the channel's column"),
    ):
        results.add_argument(
            f"--{role}",
            default=None,
            metavar="COL[,COL]" if role == "outcome" else "COL",
            help=f"with --file: {what}; guessed when left out",
        )
    results.add_argument(
        "--goal", default=None, help="the outcome the target list ranks for (default: the first)"
    )

    model = commands.add_parser("model", help="manage the bundled drafting models")
    model.add_argument(
        "action",
        choices=["prepare"],
        help="prepare: assemble and verify the default drafting model, and distil the "
        "fast embedding model",
    )
    return parser


def _draft(args: argparse.Namespace) -> int:
    from segmenter.campaign import CampaignBrief, draft_campaign  # noqa: PLC0415 - fast --help
    from segmenter.lm import generator_from_config  # noqa: PLC0415
    from segmenter.profile import SegmentProfile  # noqa: PLC0415

    profiles_path = args.dir / "profiles.json"
    if not profiles_path.is_file():
        raise SegmenterError(
            f"No profiles.json in {args.dir}: run `python -m segmenter segment INPUT --out "
            f"{args.dir}` first."
        )
    try:
        raw = json.loads(profiles_path.read_text(encoding="utf-8"))
        profiles = {p.segment_id: p for p in map(SegmentProfile.from_dict, raw)}
    except (ValueError, KeyError, TypeError) as error:
        raise SegmenterError(
            f"{profiles_path} is not a profiles file written by `segment` ({error}): "
            "run `segment` again."
        ) from error
    if not profiles:
        raise SegmenterError(f"{profiles_path} lists no segments: run `segment` again.")
    profile = profiles.get(args.segment)
    if profile is None:
        raise SegmenterError(
            f"There is no segment {args.segment}: choose one of "
            f"{', '.join(str(i) for i in sorted(profiles))}."
        )
    brief = CampaignBrief(
        channel=args.channel,
        goal=args.goal,
        tone=args.tone,
        language=args.language,
        offer=args.offer,
        variants=args.variants,
        brand=BrandProfile(
            brand_name=args.brand_name,
            sender_name=args.sender_name,
            sign_off=args.sign_off,
            voice_notes=args.brand_voice,
            banned_words=tuple(args.banned_word),
            sms_opt_out=args.sms_opt_out,
        ),
    )
    config = LMConfig.from_env()
    overrides = {
        "model": args.model,
        "gguf_path": args.gguf,
        "base_url": args.base_url,
        "api_model": args.api_model,
    }
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    generator = generator_from_config(config)
    for draft in draft_campaign(profile, brief, generator):
        record = {
            "segment_id": draft.segment_id,
            "segment_name": draft.segment_name,
            "channel": brief.channel,
            "goal": brief.goal,
            "language": draft.language,
            "variant": draft.variant,
            "fields": dict(draft.fields),
            "checks": list(draft.problems) or "passed",
            "raw_text": None if draft.fields else draft.raw_text,
            "model": draft.model_id,
            "seconds": round(draft.seconds, 2),
        }
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


def _predict(args: argparse.Namespace) -> int:
    from segmenter.export import neutralise_frame  # noqa: PLC0415 - fast --help
    from segmenter.ingest import (  # noqa: PLC0415
        build_documents,
        detect_schema,
        load_table,
        prepare_columns,
    )
    from segmenter.pipeline import embed_documents, resolve_embedder_name  # noqa: PLC0415
    from segmenter.predict import binary_label, metrics_json, predict_label  # noqa: PLC0415
    from segmenter.views import comparison_table, with_risk_score  # noqa: PLC0415

    if not args.input.is_file():
        raise SegmenterError(
            f"{args.input} is not a file: give the path of a CSV, Excel or Parquet file."
        )
    loaded = load_table(args.input, args.input.name)
    frame = loaded.frame
    schema = detect_schema(frame)
    if args.label in frame.columns:
        schema = schema.with_roles({args.label: "label"})
    binary_label(frame, args.label, args.positive)  # a bad label fails before the slow part
    prepared = prepare_columns(frame, schema)
    docs = build_documents(frame, schema)
    embed_config = EmbedConfig.from_env()
    if args.embedder:
        embed_config = replace(embed_config, model=args.embedder)
    embedding = embed_documents(docs, resolve_embedder_name(docs, embed_config), embed_config)
    prediction = predict_label(
        frame,
        docs,
        embedding.vectors if embedding is not None else None,
        prepared.numeric,
        prepared.categorical,
        args.label,
        positive=args.positive,
        random_state=args.seed,
    )
    result = prediction.cv
    leaks = list(prediction.leaks)
    for leak in leaks:
        print(f"note: {leak!r} equals {args.label!r}; left out as a leak", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    scores = with_risk_score(frame, result.risk)
    (args.out / "scores.csv").write_bytes(to_csv_bytes(neutralise_frame(scores)))
    metrics = metrics_json(result) | {"leaks_left_out": leaks}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    print(comparison_table(result).to_string(index=False))
    print(f"base rate (share of yes): {result.scores[0].base_rate:.3f}")
    print(f"best: {result.best[0]} on {result.best[1]}; wrote {args.out / 'scores.csv'}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from segmenter.movement_compare import compare_runs  # noqa: PLC0415 - fast --help

    comparison = compare_runs(args.run_a, args.run_b, from_ids=args.from_ids, to_ids=args.to_ids)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = [args.out / name for name in ("movement.csv", "comparison.json", "movers.csv")]
    paths[0].write_bytes(to_csv_bytes(comparison.movement_frame()))
    paths[1].write_text(comparison.to_json(), encoding="utf-8")
    paths[2].write_bytes(to_csv_bytes(comparison.movers))
    for line in comparison.summary_lines():
        print(line)
    print(f"wrote {', '.join(str(path) for path in paths)}")
    return 0


def _assign(args: argparse.Namespace) -> int:
    from segmenter.saved_model import read_model  # noqa: PLC0415 - fast --help

    model = read_model(args.run)
    if args.engine == "ray":
        from segmenter.distributed import assign_on_ray  # noqa: PLC0415 - Ray is optional

        summary = assign_on_ray(
            args.input, args.run, args.out, EmbedConfig.from_env(), address=args.address
        )
    else:
        if args.address:
            raise SegmenterError("--address is for --engine ray: add --engine ray or drop it.")
        from segmenter.assign import assign_record, assign_table, write_assigned  # noqa: PLC0415
        from segmenter.ingest import load_table  # noqa: PLC0415

        if not args.input.is_file():
            raise SegmenterError(f"{args.input} is not a file: give the new table's path.")
        loaded = load_table(args.input)
        progress = lambda message, _fraction: print(message, file=sys.stderr, flush=True)  # noqa: E731
        assigned = assign_table(loaded, model, EmbedConfig.from_env(), progress)
        paths = write_assigned(assigned, args.run, args.out)
        summary = assign_record(
            model, args.run, assigned.labels, assigned.fits_poorly, assigned.known, assigned.notes
        )
        summary["paths"] = [str(p) for p in paths.values()]
    for note in summary["notes"]:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"{summary['rows']:,} rows placed into {model.n_segments} saved segments; "
        f"{summary['recognised_customers']:,} recognised from the run"
    )
    for segment in summary["segments"]:
        print(
            f"  {segment['segment_id']}: {segment['segment_name']} — {segment['customers']:,} "
            f"({segment['saved_share']:.0%} then, {segment['new_share']:.0%} now, "
            f"{segment['trend']})"
        )
    print(summary["verdict"])
    print(f"wrote {', '.join(summary['paths'])}")
    return 0


def _results(args: argparse.Namespace) -> int:
    from segmenter.results.command import (  # noqa: PLC0415 - fast --help
        ResultsFile,
        file_results,
        measure,
        split_columns,
        summary_lines,
        table_results,
    )
    from segmenter.runs import open_run  # noqa: PLC0415

    by_column = [f"--{r}" for r in ("id", "campaign", "outcome", "variant", "channel")]
    given = [flag for flag in by_column if getattr(args, flag[2:]) is not None]
    if args.file is None and given:
        raise SegmenterError(f"{', '.join(given)} name columns of --file: add --file or drop them.")
    if args.file is not None and args.outcomes is not None:
        raise SegmenterError(
            "--outcomes names columns of the run's table, --file a results file: give one."
        )
    run = open_run(args.run)
    if args.file is None:
        results = table_results(run, split_columns(args.outcomes))
    else:
        request = ResultsFile(
            args.file,
            id=args.id,
            outcomes=split_columns(args.outcome),
            campaign=args.campaign,
            variant=args.variant,
            channel=args.channel,
        )
        results = file_results(run, request)
    for line in summary_lines(measure(run, results, args.goal, args.out)):
        print(line)
    return 0


def _model(args: argparse.Namespace) -> int:
    from segmenter.embedding.static import ensure_static_model  # noqa: PLC0415 - fast --help
    from segmenter.lm.bundled import qwen_path  # noqa: PLC0415

    path = qwen_path()
    print(f"default model ready and verified: {path}")
    print(f"fast embedding model ready (distilled from MiniLM): {ensure_static_model()}")
    return 0


def _customers_from_log(loaded: LoadedTable) -> tuple[LoadedTable, Schema, pd.DataFrame]:
    """The log as one row per customer, its roles, and the rows no customer owns."""
    from segmenter.transactions import (  # noqa: PLC0415 - fast --help
        aggregate_transactions,
        customer_schema,
        detect_transaction_columns,
    )

    columns = detect_transaction_columns(loaded.frame)
    if columns is None:
        raise SegmenterError(
            f"{loaded.report.filename} does not look like a transaction log: --transactions "
            "needs a repeating customer id column, a date column and an amount (or quantity "
            "and unit price) column, named as such. Leave out --transactions for a table "
            "with one row per customer."
        )
    table = aggregate_transactions(loaded.frame, columns, loaded.report.filename)
    return table.customers, customer_schema(table.customers, columns), table.unattributed


def _segment(args: argparse.Namespace) -> int:
    from segmenter.ingest import Role, detect_schema, load_table  # noqa: PLC0415 - fast --help
    from segmenter.pipeline import (  # noqa: PLC0415
        embedding_note,
        run_segmentation,
        write_outputs,
    )

    if args.engine == "ray":
        return _segment_on_ray(args)
    if args.address:
        raise SegmenterError("--address is for --engine ray: add --engine ray or drop --address.")
    if not args.input.is_file():
        raise SegmenterError(
            f"{args.input} is not a file: give the path of a CSV, Excel or Parquet file."
        )
    loaded = load_table(args.input, args.input.name)
    schema = detect_schema(loaded.frame)
    unattributed = None
    if args.transactions:
        loaded, schema, unattributed = _customers_from_log(loaded)
    if args.text_cols:
        wanted = [c.strip() for c in args.text_cols.split(",") if c.strip()]
        roles: dict[str, Role] = {c: "ignored" for c in schema.text_columns if c not in wanted}
        roles.update(dict.fromkeys(wanted, "text"))
        schema = schema.with_roles(roles)
    embed_config, cluster_config = _configs(args)

    def progress(message: str, fraction: float) -> None:
        print(f"\r{message} ({fraction:.0%})".ljust(80), end="", file=sys.stderr, flush=True)

    run = run_segmentation(loaded, schema, embed_config, cluster_config, progress)
    kept: list[str] = []
    if args.previous is not None:
        run, kept = _with_identities(run, args.previous)
    personas: dict[int, SegmentPersona] = {}
    if args.lm_names:
        run, personas = _named_by_lm(run, args.lm_model)
    paths = write_outputs(run, args.out)
    if personas:
        paths["lm_names"] = args.out / "lm_names.json"
        paths["lm_names"].write_text(_personas_json(personas), encoding="utf-8")
    if args.call_lists:
        paths.update(_write_call_lists(run, args.out))
    if unattributed is not None and len(unattributed):
        paths["unattributed"] = args.out / "unattributed_transactions.csv"
        paths["unattributed"].write_bytes(to_csv_bytes(unattributed))
    print(file=sys.stderr)
    for note in loaded.report.notes:
        print(f"note: {note}", file=sys.stderr)
    mode_note = embedding_note(run.embedder_name, run.docs)
    if mode_note:
        print(f"note: {mode_note}", file=sys.stderr)
    for persona in personas.values():
        if persona.note:
            print(f"note: segment {persona.segment_id}: {persona.note}", file=sys.stderr)
    sizes = ", ".join(f"{p.segment_id}: {p.name} ({p.size})" for p in run.result.profiles)
    print(f"{len(run.result.profiles)} segments — {sizes}")
    for line in kept:
        print(line)
    print(f"wrote {', '.join(str(path) for path in paths.values())}")
    return 0


def _with_identities(run: SegmentationRun, previous: Path) -> tuple[SegmentationRun, list[str]]:
    """The run under the numbers and names of ``previous``'s segments, and what was kept."""
    from segmenter.identities import with_identities  # noqa: PLC0415 - fast --help

    run, match = with_identities(run, previous)
    how = "shared customers" if match.method == "customers" else "the earlier run's model"
    lines = [
        f"kept {len(match.matched)} segment numbers and names of {previous} (matched by {how})"
    ]
    if match.new:
        new = ", ".join(str(match.identities[n]) for n in match.new)
        lines.append(f"new segments: {new}")
    if match.vanished:
        lines.append(f"vanished segments of {previous}: {', '.join(map(str, match.vanished))}")
    return run, lines


def _named_by_lm(
    run: SegmentationRun, model: str | None
) -> tuple[SegmentationRun, dict[int, SegmentPersona]]:
    """The run with the language model's segment names (``campaign.name_segments``, as the
    Segments page asks for them), and the personas."""
    from segmenter.campaign import name_segments  # noqa: PLC0415 - fast --help
    from segmenter.lm import generator_from_config  # noqa: PLC0415
    from segmenter.profile import rename_segments  # noqa: PLC0415

    config = LMConfig.from_env()
    if model:
        config = replace(config, model=model)
    print(file=sys.stderr)
    print(f"naming {len(run.result.profiles)} segments with the language model", file=sys.stderr)
    personas = name_segments(run.result.profiles, generator_from_config(config))
    names = {segment_id: persona.name for segment_id, persona in personas.items()}
    profiles = tuple(rename_segments(run.result.profiles, names))
    return replace(run, result=replace(run.result, profiles=profiles)), personas


def _write_call_lists(run: SegmentationRun, out: Path) -> dict[str, Path]:
    """The Segments page's call lists as CSV files; none (and a note) without feedback."""
    from segmenter.call_list import VIEWS, call_list, call_list_filename  # noqa: PLC0415
    from segmenter.views import row_segment_names, segment_names  # noqa: PLC0415

    if run.feedback is None:
        print(
            "note: no call lists: the table has no feedback text to read sentiment from",
            file=sys.stderr,
        )
        return {}
    names = row_segment_names(run.result.labels, segment_names(run.result.profiles))
    paths: dict[str, Path] = {}
    for view in VIEWS:
        frame = call_list(
            view,
            run.feedback,
            ids=run.prepared.ids,
            id_name=run.prepared.id_name,
            segment_names=names,
            docs=run.docs,
        )
        paths[f"call_list_{view}"] = out / call_list_filename(view)
        paths[f"call_list_{view}"].write_bytes(to_csv_bytes(frame))
    return paths


def _personas_json(personas: dict[int, SegmentPersona]) -> str:
    """``lm_names.json``: per segment the name, the persona, what they rest on and, when the
    model's name was not kept, why."""
    records = [
        {
            "segment_id": p.segment_id,
            "name": p.name,
            "persona": p.persona,
            "grounds": list(p.grounds),
            "note": p.note,
        }
        for p in sorted(personas.values(), key=lambda p: p.segment_id)
    ]
    return json.dumps(records, ensure_ascii=False, indent=2)


def _configs(args: argparse.Namespace) -> tuple[EmbedConfig, ClusterConfig]:
    embed_config = EmbedConfig.from_env()
    if args.embedder:
        embed_config = replace(embed_config, model=args.embedder)
    if args.embed_mode:
        embed_config = replace(embed_config, mode=args.embed_mode)
    cluster_config = replace(ClusterConfig(), n_segments=args.k, random_state=args.seed)
    if args.text_weight is not None:
        cluster_config = replace(cluster_config, text_weight=args.text_weight)
    excluded = [c.strip() for value in args.exclude for c in value.split(",") if c.strip()]
    cluster_config = replace(
        cluster_config,
        segment_by=args.segment_by,
        exclude_columns=tuple(excluded),
        segment_dates=args.with_dates,
    )
    return embed_config, cluster_config


def _segment_on_ray(args: argparse.Namespace) -> int:
    if args.transactions or args.text_cols or args.lm_names or args.call_lists or args.previous:
        raise SegmenterError(
            "--transactions, --text-cols, --lm-names, --call-lists and --previous are not yet "
            "available "
            "with --engine ray: use the local engine for them, or let the Ray engine detect "
            "the roles (and name the segments on the Segments page)."
        )
    from segmenter.distributed import segment_on_ray  # noqa: PLC0415 - Ray is optional

    embed_config, cluster_config = _configs(args)
    run = segment_on_ray(
        args.input,
        args.out,
        embed_config,
        cluster_config,
        address=args.address,
        progress=lambda message, _fraction: print(message, file=sys.stderr, flush=True),
    )
    for part in run.failed_parts:
        print(f"error: part skipped: {part.error}", file=sys.stderr)
    sizes = ", ".join(f"{p.segment_id}: {p.name} ({p.size})" for p in run.profiles)
    print(f"{len(run.profiles)} segments — {sizes}")
    print(f"wrote {', '.join(str(path) for path in run.paths.values())}")
    return 1 if run.failed_parts else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; a user error prints one line on stderr and returns exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "segment":
            return _segment(args)
        if args.command == "draft":
            return _draft(args)
        if args.command == "model":
            return _model(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "assign":
            return _assign(args)
        if args.command == "results":
            return _results(args)
    except SegmenterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 1
