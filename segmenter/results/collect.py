"""Campaign results in: from the table's own past-campaign columns, or a results file joined
to a run's customers by ID.

Either way the result is one long table, a row per customer, campaign and outcome
(``RESULT_COLUMNS``), which every figure of ``segmenter.results`` is computed from. Result
rows that match no customer of the run are kept aside (``CampaignResults.unmatched``) and
counted, never dropped silently; a customer listed twice for one campaign is merged (any
yes is a yes, amounts add up) and counted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segmenter.errors import ResultsError
from segmenter.predict import NEGATIVE_WORDS, POSITIVE_WORDS, label_kind, positive_value

RESULT_COLUMNS = (
    "row",
    "customer_id",
    "segment_id",
    "campaign",
    "channel",
    "variant",
    "draft_id",
    "control",
    "outcome",
    "responded",
    "value",
)
"""The long table: ``row`` is the customer's row in the run, ``variant`` is text ("" when the
campaign had one version), ``control`` marks customers held out (not contacted),
``responded`` is 0/1 and ``value`` an amount (revenue) where the outcome is one."""

CONTROL_VALUES = frozenset(
    {"control", "holdout", "hold-out", "hold out", "held out", "not contacted", "对照", "对照组"}
)
"""Variant (or group) values that mark customers who were kept out of the send on purpose:
the baseline uplift is measured against."""

TABLE_CAMPAIGN_OUTCOME = "responded"
"""The outcome name of past-campaign columns read from the table itself."""

_NAME_HINTS: dict[str, re.Pattern[str]] = {
    "campaign": re.compile(r"(?i)campaign|\bcmp\b|活动|营销"),
    "variant": re.compile(r"(?i)variant|version|\barm\b|\bgroup\b|test cell|版本|分组"),
    "channel": re.compile(r"(?i)channel|渠道"),
    "draft_id": re.compile(r"(?i)draft.?id"),
}
_OUTCOME_NAME = re.compile(
    r"(?i)open|click|convert|conversion|purchas|bought|order|respon|accept|redeem|revenue|"
    r"sales|amount|value|spend|打开|点击|转化|购买|下单|响应|收入|金额"
)
_MONEY_NAME = re.compile(r"(?i)revenue|sales|amount|value|spend|收入|金额")
_FLOAT_ID = re.compile(r"^(\d+)\.0+$")


@dataclass(frozen=True)
class CampaignResults:
    """Who was in which campaign and variant, and whether they responded."""

    frame: pd.DataFrame
    """One row per customer, campaign and outcome (``RESULT_COLUMNS``)."""
    source: str
    """"table columns" or the results file's name."""
    unmatched: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Result rows (as in the file) whose ID is not a customer of the run."""
    duplicates_merged: int = 0
    """Result rows merged into another row for the same customer and campaign."""
    conflicts: int = 0
    """Customers listed in two variants of one campaign: the first listing was kept."""
    notes: tuple[str, ...] = ()

    @property
    def outcomes(self) -> list[str]:
        """The outcomes measured ("opened", "converted" …), in the order read."""
        return list(dict.fromkeys(self.frame["outcome"]))

    @property
    def campaigns(self) -> list[str]:
        """The campaigns, in the order read."""
        return list(dict.fromkeys(self.frame["campaign"]))

    @property
    def has_control(self) -> bool:
        """Whether some customers were held out, so uplift can be estimated."""
        return bool(self.frame["control"].any())

    @property
    def has_variants(self) -> bool:
        """Whether some campaign sent more than one version."""
        treated = self.frame[~self.frame["control"]]
        return bool((treated.groupby("campaign")["variant"].nunique() > 1).any())

    def describe(self) -> str:
        """One line for the page and the CLI: what was read and what was set aside."""
        customers = self.frame["row"].nunique()
        parts = [
            f"{customers:,} customers in {len(self.campaigns)} "
            f"{'campaign' if len(self.campaigns) == 1 else 'campaigns'} from {self.source}"
        ]
        if len(self.unmatched):
            n = len(self.unmatched)
            parts.append(
                f"{n:,} result {'row matches' if n == 1 else 'rows match'} no customer of this "
                "run (listed in unmatched.csv)"
            )
        if self.duplicates_merged:
            n = self.duplicates_merged
            parts.append(f"{n:,} repeated {'row' if n == 1 else 'rows'} merged (any yes counts)")
        if self.conflicts:
            parts.append(
                f"{self.conflicts:,} customers were listed in two variants of one campaign: "
                "their first listing was kept"
            )
        return "; ".join(parts) + "."


def _cells(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip().where(values.notna(), "")


def _binary(values: pd.Series) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(responded 0/1, known, the value read as yes) when ``values`` hold two values (or
    one that reads as yes or no), else ``None``."""
    cells = _cells(values)
    known = (cells != "").to_numpy()
    distinct = sorted(cells[known].unique())
    if not distinct or len(distinct) > 2:
        return None
    if len(distinct) == 1:
        only = distinct[0].lower()
        if only not in POSITIVE_WORDS and only not in NEGATIVE_WORDS:
            return None
        positive = distinct[0] if only in POSITIVE_WORDS else ""
    else:
        positive = positive_value(distinct, cells[known])
    return (cells == positive).to_numpy().astype(np.int8), known, positive


def _amounts(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    cells = _cells(values).str.replace(r"[,\s$€£¥]", "", regex=True)
    numbers = pd.to_numeric(cells, errors="coerce")
    known = (cells != "").to_numpy()
    if known.sum() == 0 or numbers[known].isna().mean() > 0.05:
        return None
    amount = numbers.fillna(0.0).to_numpy(dtype=float)
    return amount, known & numbers.notna().to_numpy()


def propose_outcome_columns(frame: pd.DataFrame, exclude: Sequence[str] = ()) -> list[str]:
    """The table's columns that look like past-campaign outcomes: two-valued (0/1, yes/no)
    and named as a response (``AcceptedCmp1``, ``Response``, ``converted``, ``clicked``);
    a churn flag or a complaint is not a campaign's result. The user confirms them."""
    found = []
    for column in frame.columns:
        if column in exclude:
            continue
        read = _binary(frame[column])
        if read is None or read[0].sum() == 0 or read[0][read[1]].all():
            continue
        if label_kind(str(column), read[2]) == "response":
            found.append(str(column))
    return found


def _long(
    rows: np.ndarray,
    ids: np.ndarray,
    labels: np.ndarray,
    *,
    campaign: np.ndarray | str,
    outcome: str,
    responded: np.ndarray,
    value: np.ndarray | None = None,
    variant: np.ndarray | str = "",
    channel: np.ndarray | str = "",
    draft_id: np.ndarray | str = "",
    control: np.ndarray | bool = False,
) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            "row": rows.astype(int),
            "customer_id": ids[rows],
            "segment_id": labels[rows].astype(int),
            "campaign": campaign if not isinstance(campaign, str) else [campaign] * n,
            "channel": channel if not isinstance(channel, str) else [channel] * n,
            "variant": variant if not isinstance(variant, str) else [variant] * n,
            "draft_id": draft_id if not isinstance(draft_id, str) else [draft_id] * n,
            "control": control if not isinstance(control, bool) else np.full(n, control),
            "outcome": outcome,
            "responded": responded.astype(np.int8),
            "value": value if value is not None else np.full(n, np.nan),
        },
        columns=list(RESULT_COLUMNS),
    )


def results_from_columns(
    frame: pd.DataFrame,
    ids: Sequence[str],
    labels: np.ndarray,
    columns: Sequence[str],
    *,
    campaign_names: Mapping[str, str] | None = None,
) -> CampaignResults:
    """Past campaigns recorded as the table's own 0/1 columns, one campaign per column.

    Every customer with a value in a column counts as offered that campaign (a blank cell
    means not offered); ``campaign_names`` gives a column's display name.

    Raises:
        ResultsError: a column is missing or is not a yes/no column.
    """
    id_array = np.asarray([str(i) for i in ids], dtype=object)
    label_array = np.asarray(labels, dtype=int)
    parts, notes = [], []
    for column in columns:
        if column not in frame.columns:
            raise ResultsError(
                f"There is no column {column!r}: pick outcome columns from the list."
            )
        read = _binary(frame[column])
        if read is None:
            raise ResultsError(
                f"{column!r} is not a yes/no column (0/1, yes/no, true/false): pick past-campaign "
                "outcome columns only."
            )
        responded, known, _ = read
        keep = known & (label_array >= 0)
        if (~known).any():
            notes.append(f"{column}: {int((~known).sum()):,} blank cells read as not offered")
        rows = np.flatnonzero(keep)
        name = (campaign_names or {}).get(column, column)
        parts.append(
            _long(
                rows,
                id_array,
                label_array,
                campaign=name,
                outcome=TABLE_CAMPAIGN_OUTCOME,
                responded=responded[rows],
            )
        )
    if not parts:
        raise ResultsError("Choose at least one past-campaign column.")
    return CampaignResults(
        frame=pd.concat(parts, ignore_index=True),
        source="table columns",
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class ResultColumns:
    """Which columns of a results file hold what; only ``id`` and ``outcomes`` are needed."""

    id: str
    outcomes: tuple[str, ...]
    campaign: str | None = None
    variant: str | None = None
    channel: str | None = None
    draft_id: str | None = None


def _canonical(value: str) -> str:
    """An ID as spreadsheets mangle it: "0042" stays, "42.0" (a float column) is "42"."""
    text = value.strip()
    match = _FLOAT_ID.match(text)
    return match.group(1) if match else text


def guess_result_columns(results: pd.DataFrame, ids: Sequence[str]) -> ResultColumns:
    """A first guess the page shows and the user corrects: the ID column is the one whose
    values match most customers; campaign, variant, channel and draft columns by name;
    outcomes are the remaining yes/no or amount columns named like results.

    Raises:
        ResultsError: no column holds the run's customer IDs.
    """
    known = {_canonical(str(i)) for i in ids}
    best, best_share = None, 0.0
    for column in results.columns:
        cells = _cells(results[column]).map(_canonical)
        share = float(cells.isin(known).mean()) if len(cells) else 0.0
        if share > best_share:
            best, best_share = str(column), share
    if best is None:
        raise ResultsError(
            "No column of the results file holds this run's customer IDs: export results "
            "with the ID column of the table you segmented (the plan's customer_id)."
        )
    named: dict[str, str | None] = {}
    for role, pattern in _NAME_HINTS.items():
        named[role] = next(
            (str(c) for c in results.columns if c != best and pattern.search(str(c))), None
        )
    taken = {best, *(v for v in named.values() if v)}
    outcomes = tuple(
        str(c)
        for c in results.columns
        if c not in taken
        and _OUTCOME_NAME.search(str(c))
        and (_binary(results[c]) is not None or _amounts(results[c]) is not None)
    )
    return ResultColumns(
        id=best,
        outcomes=outcomes,
        campaign=named["campaign"],
        variant=named["variant"],
        channel=named["channel"],
        draft_id=named["draft_id"],
    )


def _outcome_values(results: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(responded, value, is_amount): a yes/no column, or an amount where > 0 is a yes."""
    binary = _binary(results[column])
    if binary is not None:
        responded, known, _ = binary
        return np.where(known, responded, 0).astype(np.int8), np.full(len(results), np.nan), False
    amounts = _amounts(results[column])
    if amounts is None or not _MONEY_NAME.search(column):
        raise ResultsError(
            f"{column!r} is neither a yes/no column nor an amount: pick outcome columns such "
            "as opened, clicked, converted (0/1) or revenue."
        )
    amount, _ = amounts
    return (amount > 0).astype(np.int8), amount, True


def results_from_file(
    results: pd.DataFrame,
    ids: Sequence[str],
    labels: np.ndarray,
    columns: ResultColumns,
    *,
    name: str = "results file",
) -> CampaignResults:
    """A results file joined to the run's customers by ID.

    Args:
        results: the file as read (every cell as text is fine).
        ids: each run row's customer ID as text.
        labels: each run row's segment (-1: unsegmented).
        columns: which file columns hold the ID, outcomes, campaign, variant …
        name: the file's name; also the campaign's name when there is no campaign column.

    Raises:
        ResultsError: a named column is missing, an outcome is not yes/no or an amount, or
            no row matches a customer.
    """
    named = [columns.id, *columns.outcomes]
    named += [
        c for c in (columns.campaign, columns.variant, columns.channel, columns.draft_id) if c
    ]
    missing = [c for c in named if c not in results.columns]
    if missing:
        raise ResultsError(
            f"The results file has no column {', '.join(map(repr, missing))}: pick columns "
            f"from {', '.join(map(str, results.columns[:12]))}."
        )
    if not columns.outcomes:
        raise ResultsError("Pick at least one outcome column (opened, clicked, converted …).")
    id_array = np.asarray([str(i) for i in ids], dtype=object)
    label_array = np.asarray(labels, dtype=int)
    position: dict[str, int] = {}
    for row, value in enumerate(id_array):
        position.setdefault(_canonical(value), row)  # a repeated ID: its first row
    file_ids = _cells(results[columns.id])
    rows = file_ids.map(lambda v: position.get(_canonical(v), -1)).to_numpy(dtype=int)
    matched = rows >= 0
    unmatched = results[~matched]
    if not matched.any():
        raise ResultsError(
            f"None of the {len(results):,} result rows has a customer ID of this run in "
            f"{columns.id!r}: check that the file belongs to this table and the ID column is "
            "right."
        )
    kept = results[matched].reset_index(drop=True)
    kept_rows = rows[matched]
    text = {
        role: _cells(kept[column]).to_numpy(dtype=object) if column else ""
        for role, column in (
            ("campaign", columns.campaign),
            ("variant", columns.variant),
            ("channel", columns.channel),
            ("draft_id", columns.draft_id),
        )
    }
    campaign = text["campaign"] if columns.campaign else name
    if columns.campaign:
        campaign = np.where(campaign == "", name, campaign)
    variant = text["variant"]
    control: np.ndarray | bool = False
    if columns.variant:
        control = np.array([str(v).lower() in CONTROL_VALUES for v in variant])
        variant = np.where(control, "control", variant)
    parts = []
    for outcome in columns.outcomes:
        responded, value, _ = _outcome_values(kept, outcome)
        parts.append(
            _long(
                kept_rows,
                id_array,
                label_array,
                campaign=campaign,
                outcome=outcome,
                responded=responded,
                value=value,
                variant=variant,
                channel=text["channel"],
                draft_id=text["draft_id"],
                control=control,
            )
        )
    long = pd.concat(parts, ignore_index=True)
    unsegmented = int((long.drop_duplicates("row")["segment_id"] < 0).sum())
    long = long[long["segment_id"] >= 0]
    long, merged, conflicts = _merge_repeats(long)
    notes = []
    if unsegmented:
        notes.append(f"{unsegmented:,} customers with results are in no segment: left out")
    return CampaignResults(
        frame=long,
        source=name,
        unmatched=unmatched,
        duplicates_merged=merged,
        conflicts=conflicts,
        notes=tuple(notes),
    )


def _merge_repeats(long: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """One row per customer, campaign and outcome: an event log lists a customer once per
    open or click; any yes is a yes and amounts add up. A customer in two variants of one
    campaign keeps the first (counted, since it blurs the comparison)."""
    keys = ["row", "campaign", "outcome"]
    repeated = long.duplicated(keys, keep=False)
    if not repeated.any():
        return long.reset_index(drop=True), 0, 0
    first = long.groupby(keys, sort=False).first()
    conflicts = int(
        (long.groupby(keys, sort=False)["variant"].nunique() > 1).groupby(level="row").any().sum()
    )
    merged_flags = long.groupby(keys, sort=False).agg(
        responded=("responded", "max"), value=("value", lambda v: v.sum(min_count=1))
    )
    first["responded"] = merged_flags["responded"]
    first["value"] = merged_flags["value"]
    merged = int(len(long) - len(first))
    out = first.reset_index()[list(RESULT_COLUMNS)]
    return out, merged // max(1, long["outcome"].nunique()), conflicts
