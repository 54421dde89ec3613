"""Read phone alignments stored by engines: pocketsphinx JSON and lhotse supervisions' ``alignment``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lhotse.utils import fastcopy

from spokenlm.align.phones import PhoneSegment, merge_repeated_silence, normalize_phone
from spokenlm.errors import SpokenLMError

PHONE_ALIGNMENT_KEY = "phones"
"""Key of the phone tier in a lhotse supervision's ``alignment`` dict."""


def read_pocketsphinx_json(path: str | Path) -> list[PhoneSegment]:
    """Phones of a ``pocketsphinx align --phone_align`` JSON file (utterance → words → phones, ``b``/``d`` in s)."""
    path = Path(path)
    try:
        root = json.loads(path.read_text())
        segments = [
            PhoneSegment(normalize_phone(phone["t"]), float(phone["b"]), float(phone["b"]) + float(phone["d"]))
            for word in root["w"]
            for phone in word.get("w", [])
        ]
    except FileNotFoundError as err:
        raise SpokenLMError(f"{path}: alignment file not found") from err
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise SpokenLMError(f"{path}: not a pocketsphinx phone-alignment JSON ({err})") from err
    if not segments:
        raise SpokenLMError(f"{path}: no phone-level alignment (was it written with --phone_align?)")
    return merge_repeated_silence(segments)


def supervision_phones(supervision: Any) -> list[PhoneSegment] | None:
    """Phone segments of a lhotse supervision, times in seconds from the supervision's start; ``None`` when absent.

    Reads the corpus field ``custom["alignment"]`` (``[[phone, start_s, end_s]]``
    relative to the supervision, as :mod:`spokenlm.data.manifests` writes it),
    else lhotse's own ``alignment["phones"]`` tier (on the supervision's time axis).
    """
    from spokenlm.data.manifests import phone_alignment

    engine = phone_alignment(supervision)
    if engine:
        return merge_repeated_silence([PhoneSegment(normalize_phone(p), a, b) for p, a, b in engine])
    items = (supervision.alignment or {}).get(PHONE_ALIGNMENT_KEY)
    if not items:
        return None
    offset = supervision.start
    return merge_repeated_silence(
        [PhoneSegment(normalize_phone(i.symbol), i.start - offset, i.start - offset + i.duration) for i in items]
    )


def with_phones(supervision: Any, segments: list[PhoneSegment]) -> Any:
    """A copy of ``supervision`` whose ``custom["alignment"]`` holds ``segments`` (seconds from its start)."""
    custom = dict(supervision.custom or {})
    custom["alignment"] = [[s.phone, round(s.start, 4), round(s.end, 4)] for s in segments]
    return fastcopy(supervision, custom=custom)
