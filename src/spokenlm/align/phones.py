"""The phone inventory, phone segments and frame-level phone labels.

Times are in seconds; frame rates in Hz. Frame ``t`` covers
``[t / frame_rate, (t + 1) / frame_rate)`` and takes the label of the segment
holding its centre ``(t + 0.5) / frame_rate``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SILENCE = "SIL"
"""Label of silence, pauses and non-speech noise."""

ARPABET: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH",
    "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
"""The 39 CMUdict phones without stress."""

PHONE_SET: tuple[str, ...] = (SILENCE, *ARPABET)
"""Silence then the 39 ARPAbet phones: the label ids of phone classifiers (``SIL`` is 0)."""

_SILENCE_ALIASES = {"", "SIL", "<SIL>", "SP", "SPN", "NSN", "+NSN+", "+SPN+", "+NOISE+", "PAU", "H#", "SILENCE"}


def normalize_phone(symbol: str) -> str:
    """Uppercase, drop stress digits (``"AH0"`` → ``"AH"``); silence and noise symbols become ``SIL``."""
    phone = re.sub(r"[0-9]", "", symbol.strip()).upper()
    return SILENCE if phone in _SILENCE_ALIASES or phone.startswith("+") else phone


@dataclass(frozen=True)
class PhoneSegment:
    """One phone of an alignment: ``phone`` label, ``start`` and ``end`` in seconds."""

    phone: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def frame_labels(segments: Sequence[PhoneSegment], frame_rate: float, num_frames: int) -> list[str]:
    """Label each of ``num_frames`` frames at ``frame_rate`` Hz with the phone under its centre.

    Frames whose centre lies outside every segment get ``SIL``. Returns ``[num_frames]`` labels.
    """
    labels = [SILENCE] * num_frames
    if not segments or num_frames == 0:
        return labels
    centres = (np.arange(num_frames) + 0.5) / frame_rate
    starts = np.array([s.start for s in segments])
    ends = np.array([s.end for s in segments])
    order = np.argsort(starts, kind="stable")
    position = np.searchsorted(starts[order], centres, side="right") - 1
    for frame, index in enumerate(position):
        if index >= 0:
            segment = order[index]
            if centres[frame] < ends[segment]:
                labels[frame] = segments[segment].phone
    return labels


def merge_repeated_silence(segments: Sequence[PhoneSegment]) -> list[PhoneSegment]:
    """Join consecutive ``SIL`` segments into one (aligners emit several silence fillers in a row)."""
    merged: list[PhoneSegment] = []
    for segment in segments:
        if merged and segment.phone == SILENCE and merged[-1].phone == SILENCE:
            merged[-1] = PhoneSegment(SILENCE, merged[-1].start, segment.end)
        else:
            merged.append(segment)
    return merged
