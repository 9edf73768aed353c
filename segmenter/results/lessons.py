"""What earlier campaigns taught about one segment, in words a drafting prompt can carry.

The brief for a segment's next draft says which campaign, channel and variant did best with
these customers (with the copy and offer of that variant when the results came back through
a campaign plan) and what did not work, each with its rate, interval and the number of
customers behind it. Only figures that ``rates`` shows are used: a cell with too few
customers is not a lesson. Each lesson has a source line that the draft records
(``Draft.informed_by``), so the next round can tell which results shaped which copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from segmenter.results.rates import ALL_SEGMENTS
from segmenter.results.stats import ALPHA

MAX_LESSONS = 4
"""Lines per segment: the best and the worst say most; more crowds the prompt."""
COPY_CHARS = 90
"""How much of a variant's headline or text the prompt quotes."""


@dataclass(frozen=True)
class PastResults:
    """What worked before for one segment: prompt lines and where each came from."""

    lines: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.lines)


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%" if rate >= 0.095 else f"{rate * 100:.1f}%"


def _figure(row: pd.Series) -> str:
    return (
        f"{_percent(row['rate'])} responded (95% interval {_percent(row['ci_low'])}–"
        f"{_percent(row['ci_high'])}, {int(row['customers']):,} customers)"
    )


def _copy_of(draft: Mapping[str, object] | None) -> str:
    """A variant's headline (or text) and offer, quoted for the prompt."""
    if not draft:
        return ""
    fields = draft.get("fields") or {}
    assert isinstance(fields, Mapping)
    first = next(
        (str(fields[k]) for k in ("subject", "title", "headline", "text", "body") if fields.get(k)),
        "",
    )
    brief = draft.get("brief") or {}
    assert isinstance(brief, Mapping)
    offer = str(brief.get("offer", "")).strip()
    parts = []
    if first:
        clipped = first if len(first) <= COPY_CHARS else first[: COPY_CHARS - 1] + "…"
        parts.append(f'"{clipped}"')
    if offer:
        parts.append(f'offer "{offer}"')
    return f" ({', '.join(parts)})" if parts else ""


def _source(source: str, row: pd.Series) -> str:
    return (
        f"{source}: {row['campaign']} {row['outcome']} {_percent(row['rate'])} of "
        f"{int(row['customers']):,}"
    )


def past_results(
    segment_id: int,
    rates: pd.DataFrame,
    comparisons: pd.DataFrame,
    uplift: pd.DataFrame,
    *,
    source: str,
    drafts: Mapping[str, Mapping[str, object]] | None = None,
    variant_drafts: Mapping[tuple[str, str], str] | None = None,
) -> PastResults:
    """The lessons for ``segment_id`` from the tables of ``rates``.

    Args:
        rates, comparisons, uplift: ``response_rates``, ``compare_variants``, ``uplift``.
        source: the results' name, recorded in each source line.
        drafts: draft_id -> the draft as stored (``draft_to_dict``), to quote a variant's copy.
        variant_drafts: (campaign, variant) -> draft_id, from the results' draft column.
    """
    mine = rates[(rates["segment_id"].astype(str) == str(segment_id)) & rates["rate"].notna()]
    if mine.empty:
        return PastResults()
    lines: list[str] = []
    sources: list[str] = []
    combined = mine[mine["variant"] == ""].sort_values("lift", ascending=False)
    everyone = rates[(rates["segment_id"] == ALL_SEGMENTS) & (rates["variant"] == "")]
    overall = {(r["outcome"], r["campaign"]): r["rate"] for _, r in everyone.iterrows()}
    reached = {(r["outcome"], r["campaign"]): r["customers"] for _, r in everyone.iterrows()}
    # A campaign is a lesson only where the segment's interval clears all customers' rate:
    # "responded most to X" said of a difference within the noise would be invented.
    above, below = [], []
    for _, row in combined.iterrows():
        base = overall.get((row["outcome"], row["campaign"]))
        if base is None or pd.isna(base):
            continue
        if row["ci_low"] > base:
            above.append((row, base))
        elif row["ci_high"] < base:
            below.append((row, base))
    for row, base in above[:2]:
        lines.append(
            f"They responded more than customers overall to {row['campaign']}: "
            f"{_figure(row)}, against {_percent(base)} of all customers."
        )
        sources.append(_source(source, row))
    for row, base in below[-1:]:
        lines.append(
            f"They responded less than customers overall to {row['campaign']}: "
            f"{_figure(row)}, against {_percent(base)} of all customers."
        )
        sources.append(_source(source, row))
    if len(combined) == 1 and not above and not below:
        only = combined.iloc[0]
        alone = reached.get((only["outcome"], only["campaign"])) == only["customers"]
        # Sent to this segment alone, "customers overall" are these same customers.
        compared = "" if alone else " they responded about as often as customers overall"
        lines.append(f"In {only['campaign']}{compared}: {_figure(only)}.")
        sources.append(_source(source, only))
    elif len(combined) and not above and not below:
        lines.append(
            f"No earlier campaign stood out with these customers: in each of "
            f"{len(combined)} they responded about as often as customers overall."
        )
        sources.append(f"{source}: {len(combined)} campaigns, none different for this segment")
    draft_of = variant_drafts or {}
    stored = drafts or {}
    variants = mine[(mine["variant"] != "") & (mine["variant"] != "control")]
    for (campaign, outcome), cell in variants.groupby(["campaign", "outcome"], sort=False):
        if len(cell) < 2:
            continue
        cell = cell.sort_values("rate", ascending=False)
        best, worst = cell.iloc[0], cell.iloc[-1]
        tested = comparisons[
            (comparisons["segment_id"].astype(str) == str(segment_id))
            & (comparisons["campaign"] == campaign)
            & (comparisons["outcome"] == outcome)
        ]
        real = bool((tested["p_adjusted"] < ALPHA).any())
        best_draft = draft_of.get((str(campaign), str(best["variant"])), "")
        worst_draft = draft_of.get((str(campaign), str(worst["variant"])), "")
        verdict = "a real difference" if real else "not yet a clear difference"
        lines.append(
            f"In {campaign}, variant {best['variant']}{_copy_of(stored.get(best_draft))} did "
            f"best: {_figure(best)}; variant {worst['variant']}"
            f"{_copy_of(stored.get(worst_draft))}: {_percent(worst['rate'])} ({verdict})."
        )
        sources.append(
            f"{source}: {campaign} variant {best['variant']} {_percent(best['rate'])} vs "
            f"variant {worst['variant']} {_percent(worst['rate'])}"
            + (f" (draft {best_draft})" if best_draft else "")
        )
    lifted = uplift[
        (uplift["segment_id"].astype(str) == str(segment_id)) & uplift["uplift"].notna()
    ]
    for _, row in lifted.iterrows():
        if row["ci_low"] > 0:
            lines.append(
                f"Contacting them worked in {row['campaign']}: {row['uplift'] * 100:.1f} points "
                f"more responded than in the control group (95% interval "
                f"{row['ci_low'] * 100:.1f} to {row['ci_high'] * 100:.1f})."
            )
        else:
            lines.append(
                f"In {row['campaign']}, contacted customers responded no more measurably than "
                f"the control group ({row['uplift'] * 100:+.1f} points, interval "
                f"{row['ci_low'] * 100:+.1f} to {row['ci_high'] * 100:+.1f})."
            )
        sources.append(f"{source}: {row['campaign']} uplift {row['uplift'] * 100:+.1f} points")
    return PastResults(tuple(lines[:MAX_LESSONS]), tuple(sources[:MAX_LESSONS]))
