"""The ``results`` command's steps: campaign results for a saved run, from the run's own
past-campaign columns or a results file, measured and written as ``write_report`` does for
the page's export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from segmenter.errors import ResultsError
from segmenter.results.collect import (
    CampaignResults,
    ResultColumns,
    guess_result_columns,
    propose_outcome_columns,
    results_from_columns,
    results_from_file,
)
from segmenter.results.report import ResultsReport, analyse, write_report
from segmenter.results.targets import TargetList, target_list

if TYPE_CHECKING:
    from segmenter.pipeline import SegmentationRun


@dataclass(frozen=True)
class ResultsFile:
    """A results file and the columns named on the command line (``None``: guessed)."""

    path: Path
    id: str | None = None
    outcomes: tuple[str, ...] = ()
    campaign: str | None = None
    variant: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class ResultsOutput:
    """What the command computed and wrote."""

    report: ResultsReport
    targets: TargetList
    goal: str
    paths: Mapping[str, Path]


def split_columns(value: str | None) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``; nothing for ``None``."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def table_results(run: SegmentationRun, outcomes: Sequence[str]) -> CampaignResults:
    """The run's own past-campaign columns: ``outcomes``, else those the table proposes.

    Raises:
        ResultsError: none given and none proposed, or a column is missing or not yes/no.
    """
    frame = run.loaded.frame
    id_column = run.schema.id_column
    columns = list(outcomes) or propose_outcome_columns(
        frame, exclude=[id_column] if id_column else []
    )
    if not columns:
        raise ResultsError(
            "The run's table has no past-campaign outcome columns (yes/no columns such as "
            "AcceptedCmp1 or Response): pass --outcomes COL,COL or --file RESULTS.csv."
        )
    return results_from_columns(frame, list(run.prepared.ids), run.result.labels, columns)


def file_results(run: SegmentationRun, request: ResultsFile) -> CampaignResults:
    """A results file joined to the run's customers; columns not named are guessed.

    Raises:
        ResultsError: the file is missing, or its columns cannot be joined or read.
        InputError: the file cannot be read as a table.
    """
    from segmenter.ingest import load_table  # noqa: PLC0415 - only this path reads a file

    if not request.path.is_file():
        raise ResultsError(
            f"{request.path} is not a file: give the path of the results CSV, Excel or "
            "Parquet file."
        )
    results = load_table(request.path).frame
    ids = list(run.prepared.ids)
    try:
        guessed = guess_result_columns(results, ids)
    except ResultsError:
        if request.id is None or request.id not in results.columns:
            raise
        # No column holds a customer ID of the run, the one named on the command line neither.
        raise ResultsError(
            f"None of the {len(results):,} result rows has a customer ID of this run in "
            f"{request.id!r}: check that the file belongs to this run's table."
        ) from None
    id_column = request.id or guessed.id
    # A guess never takes a column the command line named for another role.
    given = {id_column, *request.outcomes, request.campaign, request.variant, request.channel}
    outcomes = request.outcomes or tuple(c for c in guessed.outcomes if c not in given)
    taken = given | set(outcomes)

    def role(named: str | None, guess: str | None) -> str | None:
        return named or (guess if guess not in taken else None)

    if not outcomes:
        raise ResultsError(
            f"No outcome column found in {request.path.name} (opened, clicked, converted, "
            "revenue …): name it with --outcome COL."
        )
    columns = ResultColumns(
        id=id_column,
        outcomes=outcomes,
        campaign=role(request.campaign, guessed.campaign),
        variant=role(request.variant, guessed.variant),
        channel=role(request.channel, guessed.channel),
        draft_id=role(None, guessed.draft_id),
    )
    return results_from_file(
        results, ids, run.result.labels, columns, name=request.path.stem or request.path.name
    )


def measure(
    run: SegmentationRun, results: CampaignResults, goal: str | None, out_dir: Path
) -> ResultsOutput:
    """Rates, comparisons, uplift and the target list for ``goal`` (default: the first
    outcome), written to ``out_dir``.

    Raises:
        ResultsError: ``goal`` is not one of the outcomes measured.
    """
    outcomes = results.outcomes
    chosen = goal or outcomes[0]
    if chosen not in outcomes:
        raise ResultsError(
            f"--goal {chosen!r} is not an outcome of these results: choose one of "
            f"{', '.join(outcomes)}."
        )
    names = {p.segment_id: p.name for p in run.result.profiles}
    report = analyse(results, names)
    targets = target_list(results, list(run.prepared.ids), run.result.labels, names, outcome=chosen)
    paths = write_report(report, targets, out_dir)
    return ResultsOutput(report, targets, chosen, paths)


def summary_lines(output: ResultsOutput) -> list[str]:
    """The command's printed summary: what was read, the notes, how the target list is
    ranked, and the files written."""
    report = output.report
    lines = [report.results.describe()]
    lines += [f"note: {note}" for note in report.results.notes]
    if report.uplift_note:
        lines.append(f"note: {report.uplift_note}")
    lines.append(f"target list: ranked by {output.targets.basis} for {output.goal!r}")
    lines.append(f"wrote {', '.join(str(path) for path in output.paths.values())}")
    return lines
