"""Drafts, brand profile and typed offers kept with a run: ``drafts.json`` and ``brand.json``.

A run folder (``runs.campaign_folder``) holds them, so drafts reopen with the run after a
reload. The files are plain JSON a person can read; unknown keys are ignored and missing
ones default, so a file written by an older or newer version still opens.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from segmenter.campaign.brief import BrandProfile, CampaignBrief
from segmenter.campaign.drafting import Draft
from segmenter.errors import SegmenterError

DRAFTS_FILE = "drafts.json"
BRAND_FILE = "brand.json"
STORE_VERSION = 1


def brief_to_dict(brief: CampaignBrief) -> dict[str, Any]:
    """JSON-ready form of a brief, its brand profile included."""
    out: dict[str, Any] = {
        f.name: getattr(brief, f.name) for f in fields(brief) if f.name != "brand"
    }
    out["brand"] = brief.brand.to_dict()
    return out


def brief_from_dict(data: Mapping[str, Any]) -> CampaignBrief:
    """Rebuild a brief from ``brief_to_dict`` output; unknown keys are ignored."""
    known = {f.name for f in fields(CampaignBrief)} - {"brand"}
    values = {k: v for k, v in data.items() if k in known}
    if "variants" in values:
        values["variants"] = int(values["variants"])
    brand = BrandProfile.from_dict(dict(data.get("brand") or {}))
    return CampaignBrief(**values, brand=brand)


def draft_to_dict(draft: Draft) -> dict[str, Any]:
    """JSON-ready form of a draft, as written to ``drafts.json``."""
    return {
        "draft_id": draft.draft_id,
        "segment_id": draft.segment_id,
        "segment_name": draft.segment_name,
        "brief": brief_to_dict(draft.brief),
        "language": draft.language,
        "variant": draft.variant,
        "fields": dict(draft.fields),
        "raw_text": draft.raw_text,
        "problems": list(draft.problems),
        "model_id": draft.model_id,
        "seconds": round(float(draft.seconds), 2),
        "informed_by": list(draft.informed_by),
    }


def draft_from_dict(data: Mapping[str, Any]) -> Draft:
    """Rebuild a draft from ``draft_to_dict`` output."""
    return Draft(
        segment_id=int(data["segment_id"]),
        segment_name=str(data.get("segment_name", "")),
        brief=brief_from_dict(data.get("brief") or {}),
        language=str(data.get("language", "")),
        variant=int(data.get("variant", 1)),
        fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
        raw_text=str(data.get("raw_text", "")),
        problems=tuple(str(p) for p in data.get("problems", ())),
        model_id=str(data.get("model_id", "")),
        seconds=float(data.get("seconds", 0.0)),
        draft_id=str(data["draft_id"]),
        informed_by=tuple(str(s) for s in data.get("informed_by", ())),
    )


@dataclass(frozen=True)
class SavedCampaign:
    """What a run keeps of its campaign work."""

    drafts: tuple[Draft, ...] = ()
    brand: BrandProfile | None = None
    """``None`` when the run has no ``brand.json`` yet (the session's profile stands)."""
    offers: tuple[str, ...] = ()
    """Offers typed in briefs for this run, newest last, offered again by the picker."""


def campaign_payload(drafts: Sequence[Draft], offers: Sequence[str]) -> dict[str, Any]:
    """The content of ``drafts.json``."""
    return {
        "version": STORE_VERSION,
        "drafts": [draft_to_dict(d) for d in drafts],
        "offers": list(dict.fromkeys(o for o in offers if o.strip())),
    }


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so a reader
    (another tab, a reload) never sees half a file.

    Raises:
        OSError: the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write(path: Path, payload: Any) -> None:
    write_atomically(path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))


def save_campaign(
    folder: Path,
    drafts: Sequence[Draft],
    brand: BrandProfile,
    offers: Sequence[str] = (),
) -> None:
    """Write ``drafts.json`` and ``brand.json`` into ``folder``.

    Raises:
        SegmenterError: when the folder cannot be written; the message says where.
    """
    try:
        _write(folder / DRAFTS_FILE, campaign_payload(drafts, offers))
        _write(folder / BRAND_FILE, brand.to_dict())
    except OSError as err:
        raise SegmenterError(
            f"Could not save the drafts in {folder} ({err.strerror or err}): set "
            "SEGMENTER_RUNS_DIR to a folder this server can write."
        ) from None


def load_campaign(folder: Path) -> SavedCampaign:
    """What ``save_campaign`` wrote to ``folder``; an empty ``SavedCampaign`` when nothing was.

    A damaged file is skipped rather than blocking the run: the drafts are a convenience,
    the run itself is intact.
    """
    drafts: tuple[Draft, ...] = ()
    offers: tuple[str, ...] = ()
    brand: BrandProfile | None = None
    try:
        data = json.loads((folder / DRAFTS_FILE).read_text(encoding="utf-8"))
        drafts = tuple(draft_from_dict(d) for d in data.get("drafts", ()))
        offers = tuple(str(o) for o in data.get("offers", ()))
    except (OSError, ValueError, KeyError, TypeError, SegmenterError):
        pass
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        brand = BrandProfile.from_dict(
            json.loads((folder / BRAND_FILE).read_text(encoding="utf-8"))
        )
    return SavedCampaign(drafts, brand, offers)
