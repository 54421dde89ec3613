"""Read and store alignments: pocketsphinx JSON, engine phone timings and lhotse supervisions' ``alignment`` tiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lhotse.utils import fastcopy

from spokenlm.align.phones import PhoneSegment, merge_repeated_silence, normalize_phone
from spokenlm.align.words import WordSegment
from spokenlm.errors import SpokenLMError

PHONE_ALIGNMENT_KEY = "phones"
"""Key of the phone tier in a lhotse supervision's ``alignment`` dict."""
WORD_ALIGNMENT_KEY = "word"
"""Key of the word tier in a lhotse supervision's ``alignment`` dict."""


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


def with_words(supervision: Any, words: list[WordSegment], start: float | None = None) -> Any:
    """A copy of ``supervision`` whose lhotse ``alignment["word"]`` tier holds ``words`` (seconds from its start); other
    tiers are kept. As lhotse does, the tier is stored on the recording's time axis: ``start`` is the supervision's
    start on its recording (s; default ``supervision.start``, right for a supervisions manifest; a cut's
    supervision starts at ``cut.start + supervision.start``)."""
    from lhotse.supervision import AlignmentItem

    origin = supervision.start if start is None else start
    items = [AlignmentItem(w.word, round(origin + w.start, 4), round(w.end - w.start, 4)) for w in words]
    return fastcopy(supervision, alignment={**(supervision.alignment or {}), WORD_ALIGNMENT_KEY: items})


def supervision_words(supervision: Any, start: float | None = None) -> list[WordSegment] | None:
    """The word segments of a supervision's ``alignment["word"]`` tier, seconds from its start (to 0.1 ms, as stored);
    ``None`` when absent. ``start``: the supervision's start on its recording, as for :func:`with_words`."""
    items = (supervision.alignment or {}).get(WORD_ALIGNMENT_KEY)
    if items is None:
        return None
    origin = supervision.start if start is None else start
    return [WordSegment(i.symbol, round(i.start - origin, 4), round(i.start - origin + i.duration, 4)) for i in items]
