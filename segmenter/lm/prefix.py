"""The part of a drafting prompt that is the same for every segment, for warming the cache.

llama.cpp keeps the tokens of the last prompt of each slot and reuses the longest common
prefix with the next one (``cache_prompt``). Whatever order the campaign prompts use, the
fixed part is found the same way: build the messages for two made-up segments with the same
brief and keep what they share.
"""

from __future__ import annotations

from collections.abc import Sequence

from segmenter.lm.base import Message


def common_prefix(first: Sequence[Message], second: Sequence[Message]) -> list[dict[str, str]]:
    """The messages two conversations share, the first differing one cut after the last
    line break the two share (a whole line tokenizes the same on its own and in the prompt).

    >>> common_prefix([{"role": "user", "content": "Rules\\nA"}],
    ...               [{"role": "user", "content": "Rules\\nB"}])
    [{'role': 'user', 'content': 'Rules\\n'}]
    """
    shared: list[dict[str, str]] = []
    for a, b in zip(first, second, strict=False):
        if a == b:
            shared.append(dict(a))
            continue
        if a.get("role") == b.get("role"):
            text_a, text_b = a.get("content", ""), b.get("content", "")
            n = 0
            while n < min(len(text_a), len(text_b)) and text_a[n] == text_b[n]:
                n += 1
            cut = text_a.rfind("\n", 0, n) + 1
            if cut:
                shared.append({"role": str(a["role"]), "content": text_a[:cut]})
        break
    return shared


def campaign_prefix() -> list[dict[str, str]]:
    """The fixed start of a default campaign draft's prompt (rules, and the brief where the
    prompt puts it before the segment), from the prompts in ``segmenter.campaign``."""
    # Imported here: the campaign package builds on this one, not the other way round.
    from segmenter.campaign import CampaignBrief, build_messages  # noqa: PLC0415
    from segmenter.profile import SegmentProfile  # noqa: PLC0415

    def made_up(n: int, word: str) -> SegmentProfile:
        return SegmentProfile(
            segment_id=n, name=f"Segment {n}", size=100 + n, share=0.1 * (n + 1),
            numeric=(), categories=(), keywords=(word,), examples=(f"I like the {word}.",),
            language="en",
        )  # fmt: skip

    brief = CampaignBrief()
    return common_prefix(
        build_messages(made_up(0, "delivery"), brief), build_messages(made_up(1, "price"), brief)
    )
