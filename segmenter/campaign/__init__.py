"""Campaign copy grounded in a segment's profile: briefs, prompts, drafting and output checks.

Customer text is data, never instructions: every string that came from the table is
masked (``segmenter.privacy``), flattened to one line, stripped of anything that
looks like a delimiter or chat-template token, truncated, and quoted inside a
labelled block. The model answers in a JSON schema per channel; the answer is
validated, retried once with the failures spelt out, and otherwise returned raw
with a note saying what failed.

The modules, each importing only those above it:

- ``safety``: sanitising customer text and masking every message to a model
- ``rules``: the one list of what copy may not say (forbidden characters, promise words,
  time frames, escalation keywords) and the offer slot, read by grammar, prompts and checks
- ``brief``: ``CampaignBrief``, goals, tones, languages, channels and their limits
- ``prompts``: the prompt text, the segment's facts and quotes, the output schema
- ``checks``: checks on the copy (lengths, SMS alphabet, placeholders, claims), cutting to fit
- ``generate``: asking the model, checking its answer, retrying once (``generate_checked``)
- ``drafting``: ``draft_campaign``, ``Draft``, editing and exporting drafts
- ``naming``: model-written segment names and personas, and column labels
- ``replies``: a reply to one customer's feedback (``draft_reply``)

This package re-exports their public names. To patch a setting such as ``RETRIES`` in
a test, patch the module that reads it (``segmenter.campaign.generate``), not this one.

>>> brief = CampaignBrief(channel="sms", goal="win_back", offer="20% off for 3 months",
...                       brand=BrandProfile(brand_name="Acme"))
>>> drafts = draft_campaign(profile, brief, get_generator("smollm2-135m"))
>>> drafts[0].fields["text"]
"""

from __future__ import annotations

from segmenter.campaign.brief import (
    AUTO_LANGUAGE,
    CHANNELS,
    CJK_LONG_FIELD_LIMIT,
    GOAL_LABELS,
    GOAL_STRUCTURES,
    GOALS,
    LANGUAGE_NAMES,
    MAX_VARIANTS,
    SMS_GSM_LIMIT,
    SMS_UNICODE_LIMIT,
    TONES,
    BrandProfile,
    CampaignBrief,
    ChannelSpec,
    FieldSpec,
    brief_language,
    default_language,
    field_limit,
    language_name,
)
from segmenter.campaign.checks import (
    CUT_OFF,
    LENGTH_PROBLEM,
    check_fields,
    copy_problems,
    drop_promises,
    fit_to_limits,
    grounding_problems,
    language_problems,
    plain_text,
    shorten,
    sms_limit,
    sms_text,
)
from segmenter.campaign.drafting import (
    Draft,
    draft_campaign,
    drafts_frame,
    drafts_markdown,
    edited,
    with_brand_lines,
    with_offer,
)
from segmenter.campaign.generate import (
    RETRIES,
    TEMPERATURE,
    Generated,
    generate_checked,
    parse_json_object,
    partial_fields,
    stream_reply,
)
from segmenter.campaign.naming import (
    GROUNDING_NOTE,
    LABEL_EXAMPLES,
    LABEL_MAX_CHARS,
    LABELS_PROMPT,
    NAME_MAX_CHARS,
    NAMES_PROMPT,
    PERSONA_MAX_CHARS,
    SegmentPersona,
    labels_messages,
    name_segments,
    names_messages,
    propose_labels,
)
from segmenter.campaign.prompts import (
    BRIEF_PROMPT,
    FACT_MAX_CHARS,
    FACT_TRAITS,
    GRAMMAR_MIN_LIMIT,
    MIN_FACT_Z,
    QUOTE_MAX_CHARS,
    QUOTES_IN_PROMPT,
    RETRY_PROMPT,
    SYSTEM_PROMPT,
    VARIANT_PROMPT,
    WORD_CHARS,
    brief_prompt,
    build_messages,
    copy_limits,
    output_schema,
    quote_block,
    raw_column_names,
    segment_facts,
)
from segmenter.campaign.replies import (
    REPLY_FIELDS,
    REPLY_MAX_CHARS,
    REPLY_PROMPT,
    REPLY_SYSTEM_PROMPT,
    draft_reply,
    reply_messages,
    reply_problems,
)
from segmenter.campaign.rules import (
    OFFER_SLOT,
    PROMISE_WORDS,
    copy_pattern,
    escalation_reasons,
    fill_offer,
)
from segmenter.campaign.safety import (
    mask_messages,
    sanitise,
)

__all__ = [
    "GOAL_STRUCTURES",
    "default_language",
    "copy_problems",
    "drop_promises",
    "language_problems",
    "with_brand_lines",
    "with_offer",
    "brief_prompt",
    "copy_limits",
    "raw_column_names",
    "reply_problems",
    "OFFER_SLOT",
    "PROMISE_WORDS",
    "copy_pattern",
    "escalation_reasons",
    "fill_offer",
    "AUTO_LANGUAGE",
    "BRIEF_PROMPT",
    "CHANNELS",
    "CJK_LONG_FIELD_LIMIT",
    "CUT_OFF",
    "BrandProfile",
    "CampaignBrief",
    "ChannelSpec",
    "Draft",
    "FACT_MAX_CHARS",
    "FACT_TRAITS",
    "FieldSpec",
    "GOALS",
    "GOAL_LABELS",
    "GRAMMAR_MIN_LIMIT",
    "GROUNDING_NOTE",
    "Generated",
    "LABELS_PROMPT",
    "LABEL_EXAMPLES",
    "LABEL_MAX_CHARS",
    "LANGUAGE_NAMES",
    "LENGTH_PROBLEM",
    "MAX_VARIANTS",
    "MIN_FACT_Z",
    "NAMES_PROMPT",
    "NAME_MAX_CHARS",
    "PERSONA_MAX_CHARS",
    "QUOTES_IN_PROMPT",
    "QUOTE_MAX_CHARS",
    "REPLY_FIELDS",
    "REPLY_MAX_CHARS",
    "REPLY_PROMPT",
    "REPLY_SYSTEM_PROMPT",
    "RETRIES",
    "RETRY_PROMPT",
    "SMS_GSM_LIMIT",
    "SMS_UNICODE_LIMIT",
    "SYSTEM_PROMPT",
    "SegmentPersona",
    "TEMPERATURE",
    "TONES",
    "VARIANT_PROMPT",
    "WORD_CHARS",
    "brief_language",
    "build_messages",
    "check_fields",
    "draft_campaign",
    "draft_reply",
    "drafts_frame",
    "drafts_markdown",
    "edited",
    "field_limit",
    "fit_to_limits",
    "generate_checked",
    "grounding_problems",
    "labels_messages",
    "language_name",
    "mask_messages",
    "name_segments",
    "names_messages",
    "output_schema",
    "parse_json_object",
    "partial_fields",
    "plain_text",
    "propose_labels",
    "quote_block",
    "reply_messages",
    "sanitise",
    "segment_facts",
    "shorten",
    "sms_limit",
    "sms_text",
    "stream_reply",
]
