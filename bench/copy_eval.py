"""Measure the quality of campaign copy: does a model's copy pass, stay grounded and differ?

Segments several tables with the real pipeline, drafts copy for each segment on every
chosen channel through the public API (``draft_campaign``), then re-checks every draft
with detectors of its own, independent of the app's checks: the app's problem strings are
not counted, the copy is read again. Per model it prints:

- first-try pass rate (one model answer, no retry, every check clean) and final pass rate
  (the app's checks and every detector below clean);
- counts of drafts with placeholders, invented numbers or promises (digits, ``%``,
  currency, promise words that are not part of the brief's offer), raw column names
  (a column name that differs from its label), wrong script for the language, wrong voice
  (the copy speaks as the customer), hashtags outside the social-ad channel; and fields
  cut mid-phrase to fit (ending in "…"), which also keep a draft from the final pass;
- grounding: share of drafts whose copy mentions one of the segment's top traits, keywords
  or next best offers (``grounding_terms``; the brief's own offer does not count);
- distinctness: mean TF-IDF cosine similarity of copy for different segments of a table
  (same channel) against copy for the same segment (variants; needs ``--variants 2``+);
- seconds to first token and per draft;
- past results: on a table with past-campaign columns (the campaign table's
  ``AcceptedCmp1..5``, ``Response``), each segment's brief carries what worked for it
  (``segmenter.results``); the share of those drafts whose every prompt held every lesson
  and which recorded them in ``informed_by``.

    python bench/copy_eval.py                                  # the full run (long on a CPU)
    python bench/copy_eval.py --segments-per-table 1 --variants 1 --out /tmp/copy.json
    python bench/copy_eval.py --model smollm2-135m --tables sample --channels sms
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from segmenter.campaign import (  # noqa: E402
    CHANNELS,
    BrandProfile,
    CampaignBrief,
    draft_campaign,
    edited,
)
from segmenter.campaign.checks import MID_SENTENCE  # noqa: E402
from segmenter.campaign.prompts import raw_column_names, readable  # noqa: E402
from segmenter.profile import SegmentProfile, describe_traits  # noqa: E402
from segmenter.results import analyse, propose_outcome_columns, results_from_columns  # noqa: E402

AD_CHANNEL = "ad"

# --- independent detectors ----------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"[\[\]{}<>]|\b(?:XXXX+|TBD|lorem ipsum)\b|\b(?:first|customer)[ _]name\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|RMB|CNY)\b|元")
PROMISE_WORDS_EN = (
    "free", "refund", "refunds", "returns", "shipping", "guarantee", "guaranteed",
    "gift", "gifts", "discount", "discounts", "cashback", "voucher", "coupon", "bonus",
    "no charge", "money back", "business days", "within", "waive", "waived",
)  # fmt: skip
PROMISE_WORDS_ZH = (
    "免费", "包邮", "退款", "赠品", "赠送", "优惠券", "折扣", "打折", "返现", "保证", "包退",
    "退货", "工作日", "礼品", "红包",
)  # fmt: skip
_CUSTOMER_VOICE = re.compile(
    r"\b(?:my (?:account|order|credit|card|bank|refund|package|loan|mortgage|report|money|"
    r"payment|complaint|item|statement|bill)s?|i (?:want|demand|need) (?:you|a|my|to)|"
    r"i am writing to|i'm writing to|i have been (?:charged|waiting)|please (?:remove|suppress|"
    r"fix|refund) (?:my|the)|help me)\b|我的(?:订单|账户|快递|包裹|退款)|我要(?:退|投诉)|给我退",
    re.IGNORECASE,
)
QUOTE_RUN_LATIN = 30
QUOTE_RUN_CJK = 10
"""Copy that repeats this many characters of a customer's quote speaks in the customer's
words (Latin letters; CJK characters carry more per character)."""
_HASHTAG = re.compile(r"(?:^|\s)[#＃][\w\u4e00-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
STOPWORDS = frozenset(
    """a an the and or of to in on for with at by from as is are was were be been this that
    these those it its their them they you your we our us more less than about average
    customers customer all other others share against overall times holds buys compared
    same most least higher lower much many per what who which when where how there here
    have has had not no yes also over under into out up down segment value values""".split()
)


def copy_text(fields: Mapping[str, Any]) -> str:
    """All copy fields of a draft as one text, in field order."""
    return "\n".join(str(v) for v in fields.values() if isinstance(v, str))


def placeholders(text: str) -> list[str]:
    """Brackets, braces, angle brackets and template stand-ins (``[Customer Name]``)."""
    return [m.group(0) for m in _PLACEHOLDER.finditer(text)]


def _promise_words(text: str) -> list[str]:
    lower = text.lower()
    found = [w for w in PROMISE_WORDS_EN if re.search(rf"\b{re.escape(w)}\b", lower)]
    return found + [w for w in PROMISE_WORDS_ZH if w in text]


def invented_claims(text: str, offer: str) -> list[str]:
    """Numbers, ``%``, currency and promise words in ``text`` that the offer does not hold.

    A number counts unless the same number is in the offer; a sign or word counts unless
    the offer contains it too (case-insensitively).
    """
    offer_numbers = {n.replace(",", "") for n in _NUMBER.findall(offer)}
    offer_lower = offer.lower()
    found = [n for n in _NUMBER.findall(text) if n.replace(",", "") not in offer_numbers]
    if "%" in text and "%" not in offer and "％" not in offer:
        found.append("%")
    found += [c for c in _CURRENCY.findall(text) if c.lower() not in offer_lower]
    found += [w for w in _promise_words(text) if w.lower() not in offer_lower]
    return found


def raw_columns(text: str, labels: Mapping[str, str]) -> list[str]:
    """Column names of the table that differ from their labels and appear in the copy as
    a whole token, case-sensitively (``MntFruits``, ``monthly_spend``)."""
    found = []
    for column, label in labels.items():
        if len(column) < 3 or column.strip().lower() == str(label).strip().lower():
            continue
        if re.search(rf"(?<![\w]){re.escape(column)}(?![\w])", text):
            found.append(column)
    return found


def cjk_share(text: str) -> float:
    """Share of CJK characters among CJK characters and Latin letters (0 without either)."""
    cjk, latin = len(_CJK.findall(text)), len(_LATIN.findall(text))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def expected_script(profile: SegmentProfile, columns: Sequence[str]) -> str:
    """``"zh"`` when most of the segment's quotes are Chinese, ``"en"`` when most are not,
    ``"any"`` when they split evenly (either language serves a mixed segment); a segment
    without text goes by its table's column names. Each quote counts once, however many
    letters it spends."""
    if not profile.examples:
        return "zh" if cjk_share(" ".join(columns)) > 0.5 else "en"
    chinese = sum(cjk_share(quote) > 0.5 for quote in profile.examples)
    if 2 * chinese == len(profile.examples):
        return "any"
    return "zh" if 2 * chinese > len(profile.examples) else "en"


def wrong_language(text: str, expected: str) -> bool:
    """Whether the copy's script does not match ``expected`` (``"zh"`` or ``"en"``).

    Chinese copy may carry a Latin brand name or "STOP", so it needs half its letters CJK;
    English copy may hold a quoted Chinese word, so it fails at a tenth.
    """
    share = cjk_share(text)
    if expected == "any":
        return 0.1 < share < 0.5  # neither language: mixed copy
    return share < 0.5 if expected == "zh" else share > 0.1


def customer_voice(text: str, quotes: Sequence[str] = ()) -> list[str]:
    """Phrases where the copy speaks as the customer ("my credit report", "I want a"), and
    runs of a customer's quote repeated in the copy ("不会再买了" from a one-star review)."""
    found = [m.group(0) for m in _CUSTOMER_VOICE.finditer(text)]
    return found + [f"quote: {run}" for run in _quoted_runs(text, quotes)]


def _quoted_runs(text: str, quotes: Sequence[str]) -> list[str]:
    runs = []
    for quote in quotes:
        match = SequenceMatcher(None, text, quote, autojunk=False).find_longest_match()
        run = text[match.a : match.a + match.size].strip()
        cjk = len(_CJK.findall(run))
        if cjk >= QUOTE_RUN_CJK or (not cjk and len(run) >= QUOTE_RUN_LATIN):
            runs.append(run)
    return runs


def hashtags(text: str, channel: str) -> list[str]:
    """Hashtags, counted only outside the social-ad channel."""
    return [] if channel == AD_CHANNEL else [m.group(0).strip() for m in _HASHTAG.finditer(text)]


def _content_words(text: str) -> set[str]:
    words = re.findall(r"[A-Za-z][A-Za-z'-]{3,}", text.lower())
    return {w[:5] for w in words if w not in STOPWORDS}  # a five-letter stem: wine ~ wines


def _cjk_bigrams(text: str) -> set[str]:
    runs = re.findall(r"[\u3400-\u9fff]+", text)
    return {run[i : i + 2] for run in runs for i in range(len(run) - 1)}


def grounding_terms(profile: SegmentProfile, labels: Mapping[str, str] | None = None) -> set[str]:
    """What a grounded draft can mention: content-word stems and CJK bigrams of the segment's
    top trait statements, keywords and next best offers (not the brief's offer)."""
    texts = [t.text for t in describe_traits(profile, labels, limit=6)]
    texts += list(profile.keywords[:8])
    texts += [str(offer.value) for offer in profile.offers[:3]]
    terms: set[str] = set()
    for text in texts:
        terms |= _content_words(text) | _cjk_bigrams(text)
    return terms


def grounded(text: str, terms: set[str], offer: str = "") -> list[str]:
    """The grounding terms the copy mentions (terms that are only in the offer do not count)."""
    copy_terms = _content_words(text) | _cjk_bigrams(text)
    offer_terms = _content_words(offer) | _cjk_bigrams(offer)
    return sorted((copy_terms & terms) - offer_terms)


def detect(
    fields: Mapping[str, Any],
    *,
    channel: str,
    offer: str,
    labels: Mapping[str, str],
    expected: str,
    terms: set[str],
    quotes: Sequence[str] = (),
) -> dict[str, Any]:
    """Every detector on one draft's copy: lists of what each found, and grounding;
    ``quotes`` are the segment's customer quotes that the model was shown."""
    text = copy_text(fields)
    return {
        "empty": not text.strip(),
        "placeholders": placeholders(text),
        "invented": invented_claims(text, offer),
        "raw_columns": raw_columns(text, labels),
        "wrong_language": wrong_language(text, expected) if text.strip() else False,
        "wrong_voice": customer_voice(text, quotes),
        "hashtags": hashtags(text, channel),
        "grounded_on": grounded(text, terms, offer),
        "cut_short": cut_short(fields),
    }


COUNTED = ("placeholders", "invented", "raw_columns", "wrong_language", "wrong_voice", "hashtags")
UNSENDABLE = (*COUNTED, "cut_short")
"""What keeps a draft from being sent as written: the issue's six counts, and a field cut
mid-phrase to fit ("Upgrade to our premium…" on a button)."""


def cut_short(fields: Mapping[str, Any]) -> list[str]:
    """The fields that end in an ellipsis: cut to fit, mid-phrase."""
    return [name for name, value in fields.items() if str(value).rstrip().endswith(("…", "..."))]


def clean(found: Mapping[str, Any]) -> bool:
    """No detector found anything (and the copy is not empty)."""
    return not found["empty"] and not any(found.get(k) for k in UNSENDABLE)


# --- similarity ---------------------------------------------------------------------------


def distinctness(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean TF-IDF cosine similarity (character 2-4-grams, so Chinese works) between drafts
    of different segments of the same table and channel, and between variants of the same
    segment and channel. Lower ``different`` than ``same`` means copy is segment-specific."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    different: list[float] = []
    same: list[float] = []
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for record in records:
        if record["text"].strip():
            groups.setdefault((record["table"], record["channel"]), []).append(record)
    for group in groups.values():
        if len(group) < 2:
            continue
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform(
            [r["text"] for r in group]
        )
        sims = (matrix @ matrix.T).toarray()
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                same_segment = group[i]["segment_id"] == group[j]["segment_id"]
                (same if same_segment else different).append(float(sims[i, j]))
    return {
        "different_segments": float(np.mean(different)) if different else float("nan"),
        "same_segment": float(np.mean(same)) if same else float("nan"),
        "pairs_different": len(different),
        "pairs_same": len(same),
    }


# --- tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCase:
    """A table to segment and the brief to draft for its segments."""

    name: str
    make: Callable[[], pd.DataFrame]
    goal: str
    offer: str


def _sample() -> pd.DataFrame:
    frame = pd.read_csv(ROOT / "assets" / "sample_customers.csv", dtype=str)
    return frame.sample(n=min(len(frame), 800), random_state=0)


def _shape(name: str) -> Callable[[], pd.DataFrame]:
    def make() -> pd.DataFrame:
        sys.path.insert(0, str(ROOT))
        from tests import shapes  # noqa: PLC0415 - the generators of export-shaped tables

        frame: pd.DataFrame = getattr(shapes, name)()
        return frame

    return make


TABLES: dict[str, TableCase] = {
    case.name: case
    for case in (
        TableCase("sample", _sample, "win_back", "free delivery for a month"),
        TableCase("campaign", _shape("marketing_campaign"), "loyalty", "15% off your next order"),
        TableCase("complaints", _shape("complaints_export"), "win_back", ""),
        TableCase("chinese", _shape("chinese_reviews"), "win_back", "全场9折"),
        TableCase("clothing", _shape("clothing_reviews"), "upsell", "free returns on new arrivals"),
    )
}
DEFAULT_TABLES = ("sample", "campaign", "complaints", "chinese")


@dataclass
class Segmented:
    """One table's segments, with what the detectors need to know about it."""

    case: TableCase
    profiles: list[SegmentProfile]
    labels: dict[str, str]
    columns: list[str]
    seconds: float = 0.0
    results: Any = None
    """The table's own past-campaign columns read as results (``segmenter.results``), whose
    lessons each segment's brief carries; ``None`` when the table has none."""


def segment_table(case: TableCase) -> Segmented:
    """Segment ``case``'s table with the app's pipeline (as an upload would be)."""
    from segmenter.config import ClusterConfig, EmbedConfig  # noqa: PLC0415
    from segmenter.ingest import detect_schema, load_table  # noqa: PLC0415
    from segmenter.pipeline import run_segmentation  # noqa: PLC0415

    start = time.perf_counter()
    frame = case.make()
    loaded = load_table(frame.to_csv(index=False).encode("utf-8"), f"{case.name}.csv")
    schema = detect_schema(loaded.frame)
    run = run_segmentation(loaded, schema, EmbedConfig(), ClusterConfig())
    profiles = sorted(run.result.profiles, key=lambda p: -p.size)
    report = None
    outcomes = propose_outcome_columns(loaded.frame, exclude=[schema.id_column or ""])
    if outcomes:  # a campaign table: its past campaigns shape the next brief
        results = results_from_columns(
            loaded.frame, run.prepared.ids.tolist(), run.result.labels, outcomes
        )
        report = analyse(results, {p.segment_id: p.name for p in profiles})
    return Segmented(
        case, profiles, dict(run.labels), [str(c) for c in frame.columns],
        time.perf_counter() - start, report,
    )  # fmt: skip


# --- drafting -----------------------------------------------------------------------------


class CountingGenerator:
    """Wraps a ``TextGenerator``: counts model calls and times the first piece of each."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.is_local = inner.is_local
        self.calls = 0
        self.prompts: list[str] = []
        self.first_token: list[float | None] = []
        """Per call: seconds from the request to its first piece (``None``: no piece)."""

    def stream(self, messages: Any, **kwargs: Any) -> Iterator[str]:
        self.calls += 1
        self.prompts.append("\n".join(str(m["content"]) for m in messages))
        self.first_token.append(None)
        start = time.perf_counter()
        for piece in self.inner.stream(messages, **kwargs):
            if self.first_token[-1] is None:
                self.first_token[-1] = time.perf_counter() - start
            yield piece


@dataclass
class EvalResult:
    """Every draft with what the detectors found, and the summary."""

    model: str
    records: list[dict[str, Any]] = field(default_factory=list)
    load_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        """Rates, counts, grounding, distinctness and timings over all drafts."""
        return summarise(self.records)


def summarise(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The bench's table row for one model from its draft records."""
    n = len(records)
    if not n:
        return {"drafts": 0}
    # Final: the copy as handed on passes every check of the app (re-run on it) and every
    # detector here; a draft the app fixed (cut to fit, a sentence removed) passes when
    # the fix left clean copy, and is counted apart as "fixed by the app".
    final = [r.get("handed_on_ok", r["app_ok"]) and clean(r["found"]) for r in records]
    first = [r["app_ok"] and clean(r["found"]) and r["calls"] == 1 for r in records]
    counts = {k: sum(bool(r["found"].get(k)) for r in records) for k in UNSENDABLE}
    first_tokens = [r["first_token_s"] for r in records if r["first_token_s"] is not None]
    informed = [r for r in records if r.get("past_results")]
    return {
        "drafts": n,
        "first_try_pass": sum(first) / n,
        "final_pass": sum(final) / n,
        "app_checks_pass": sum(r["app_ok"] for r in records) / n,
        "fixed_by_app": sum(ok and not r["app_ok"] for ok, r in zip(final, records, strict=True))
        / n,
        **counts,
        "grounding": sum(bool(r["found"]["grounded_on"]) for r in records) / n,
        # Drafts for segments with past results, and the share whose every prompt carried
        # every lesson and which recorded them (informed_by).
        "drafts_with_past_results": len(informed),
        "past_results_reached_prompt": (
            sum(bool(r["past_results_in_prompt"]) and bool(r["informed_by"]) for r in informed)
            / len(informed)
            if informed
            else float("nan")
        ),
        **{f"similarity_{k}": v for k, v in distinctness(records).items()},
        "first_token_s_median": float(np.median(first_tokens)) if first_tokens else float("nan"),
        "first_token_s_first": first_tokens[0] if first_tokens else float("nan"),
        "seconds_per_draft_median": float(np.median([r["seconds"] for r in records])),
        "seconds_per_draft_mean": float(np.mean([r["seconds"] for r in records])),
    }


BRAND = BrandProfile(brand_name="Northwind", sender_name="The Northwind team")


def eval_table(
    table: Segmented,
    generator: Any,
    channels: Sequence[str],
    *,
    segments: int | None,
    variants: int,
    log: Callable[[str], None] = lambda _m: None,
) -> list[dict[str, Any]]:
    """Draft every chosen channel for the table's largest ``segments`` segments and run
    the detectors on each draft."""
    counting = CountingGenerator(generator)
    records = []
    for profile in table.profiles[:segments]:
        expected = expected_script(profile, table.columns)
        terms = grounding_terms(profile, table.labels)
        for channel in channels:
            brief = CampaignBrief(
                channel=channel, goal=table.case.goal, offer=table.case.offer,
                variants=variants, brand=BRAND,
            )  # fmt: skip
            drafts: list[tuple[Any, int]] = []  # (draft, calls made when it was done)
            first_call = counting.calls
            past = table.results.lessons(profile.segment_id) if table.results else None
            draft_campaign(
                profile, brief, counting,
                on_draft=lambda d, kept=drafts: kept.append((d, counting.calls)),
                past=past or None,
            )  # fmt: skip
            # Every prompt of this brief must carry every lesson, word for word once its
            # column names are made readable as the whole prompt's are ("AcceptedCmp1" ->
            # "accepted campaign 1").
            prompts = counting.prompts[first_call:]
            names = raw_column_names(profile)
            past_lines = [readable(line, names) for line in past.lines] if past else []
            past_reached = all(line in p for line in past_lines for p in prompts)
            for draft, calls in drafts:
                found = detect(
                    draft.fields, channel=channel, offer=table.case.offer, labels=table.labels,
                    expected=expected, terms=terms, quotes=profile.examples,
                )  # fmt: skip
                record = {
                    "table": table.case.name,
                    "segment_id": profile.segment_id,
                    "segment_name": profile.name,
                    "segment_size": profile.size,
                    "channel": channel,
                    "variant": draft.variant,
                    "goal": brief.goal,
                    "offer": brief.offer,
                    "language": draft.language,
                    "expected_script": expected,
                    "fields": dict(draft.fields),
                    "text": copy_text(draft.fields),
                    "raw_text": draft.raw_text if not draft.fields else "",
                    "app_ok": draft.ok,
                    "app_problems": list(draft.problems),
                    # A cut the app's opt-out line then hid ("…times, or. Reply STOP") is
                    # still a cut: the draft's own problems say so.
                    "handed_on_ok": edited(draft, draft.fields).ok
                    and not any(MID_SENTENCE in p for p in draft.problems),
                    "handed_on_problems": list(edited(draft, draft.fields).problems),
                    "calls": calls - first_call,
                    "first_token_s": counting.first_token[first_call],
                    "seconds": draft.seconds,
                    "found": found,
                    "past_results": past_lines,
                    "past_results_in_prompt": past_reached if past_lines else None,
                    "informed_by": list(draft.informed_by),
                }
                first_call = calls
                records.append(record)
                flags = [k for k in UNSENDABLE if found[k]]
                log(
                    f"{table.case.name} #{profile.segment_id} {channel} v{draft.variant}: "
                    f"{draft.seconds:.1f} s, app {'ok' if draft.ok else 'FAIL'}, "
                    f"{'clean' if not flags else ','.join(flags)}"
                )
    return records


def run_eval(
    model: str,
    tables: Sequence[str],
    channels: Sequence[str],
    *,
    segments: int | None,
    variants: int,
    log: Callable[[str], None] = lambda _m: None,
    generator: Any = None,
) -> EvalResult:
    """Segment the tables, load the model, draft and detect; ``generator`` overrides
    ``model`` (tests pass a fake)."""
    segmented = []
    for name in tables:
        table = segment_table(TABLES[name])
        log(f"segmented {name}: {len(table.profiles)} segments in {table.seconds:.0f} s")
        segmented.append(table)
    if generator is None:
        from segmenter.lm import get_generator  # noqa: PLC0415

        generator = get_generator(model)
        if hasattr(generator, "seed"):
            generator.seed = 1  # repeatable copy across runs of the bench
    result = EvalResult(model=getattr(generator, "model_id", model))
    if hasattr(generator, "load"):
        start = time.perf_counter()
        generator.load()
        result.load_seconds = time.perf_counter() - start
        log(f"loaded {result.model} in {result.load_seconds:.1f} s")
    for table in segmented:
        result.records += eval_table(
            table, generator, channels, segments=segments, variants=variants, log=log
        )
    return result


def rescore(records: list[dict[str, Any]], log: Callable[[str], None] = lambda _m: None) -> None:
    """Run today's detectors again on drafts from an earlier ``--out`` file (in place): the
    tables are segmented again (same data, same settings, so the same segments)."""
    tables: dict[str, Segmented] = {}
    for record in records:
        name = record["table"]
        if name not in tables:
            tables[name] = segment_table(TABLES[name])
            log(f"segmented {name} again")
        table = tables[name]
        profile = next(p for p in table.profiles if p.segment_id == record["segment_id"])
        record["found"] = detect(
            record["fields"], channel=record["channel"], offer=record["offer"],
            labels=table.labels, expected=expected_script(profile, table.columns),
            terms=grounding_terms(profile, table.labels), quotes=profile.examples,
        )  # fmt: skip


def format_summary(summary: Mapping[str, Any]) -> str:
    """The summary as a two-column Markdown table."""
    lines = ["| measure | value |", "|---|---|"]
    for key, value in summary.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    from segmenter.lm import DEFAULT_GENERATOR  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="*", default=[DEFAULT_GENERATOR])
    parser.add_argument("--tables", nargs="*", default=list(DEFAULT_TABLES), choices=TABLES)
    parser.add_argument("--channels", nargs="*", default=list(CHANNELS), choices=list(CHANNELS))
    parser.add_argument("--segments-per-table", type=int, default=None, help="default: all")
    parser.add_argument("--variants", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="JSON of every draft + metrics")
    parser.add_argument(
        "--rescore", type=Path, default=None, help="re-detect the drafts of an earlier --out file"
    )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.rescore:
        payload = json.loads(args.rescore.read_text(encoding="utf-8"))
        for entry in payload["models"].values():
            rescore(entry["drafts"], log)
            entry["summary"] = summarise(entry["drafts"])
            print(f"\n### {entry['model_id']} (rescored {args.rescore})\n")
            print(format_summary(entry["summary"]))
        if args.out:
            args.out.write_text(
                json.dumps(payload, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
            )
        return

    results = {}
    for model in args.model:
        result = run_eval(
            model, args.tables, args.channels, segments=args.segments_per_table,
            variants=args.variants, log=log,
        )  # fmt: skip
        results[model] = result
        print(f"\n### {result.model} (loaded in {result.load_seconds:.1f} s)\n")
        print(format_summary(result.summary()))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nMachine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"load average {load:.1f} at the end; tables {args.tables}, channels {args.channels}, "
        f"segments per table {args.segments_per_table or 'all'}, variants {args.variants}"
    )
    if args.out:
        payload = {
            "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "machine": {"cpus": os.cpu_count(), "load_average_end": load},
            "models": {
                m: {
                    "model_id": r.model,
                    "load_seconds": r.load_seconds,
                    "summary": r.summary(),
                    "drafts": r.records,
                }
                for m, r in results.items()
            },  # fmt: skip
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(payload, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
