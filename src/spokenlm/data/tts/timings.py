"""Engine phone segments → ARPAbet phones with ``(phone, start_s, end_s)`` timings.

Every engine reports its segments in its own phone set (festival/flite names,
espeak-ng IPA). :func:`segments_to_alignment` maps them with the engine's
mapper; pauses (segments mapping to no phone) are dropped, so the gaps between
phones are silence, as frame labellers read them
(:func:`spokenlm.align.phones.frame_labels` gives ``SIL`` outside every segment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Alignment = list[tuple[str, float, float]]


def segments_to_alignment(
    segments: Iterable[tuple[str, float, float]], to_arpabet: Callable[[str], list[str]], duration_s: float | None = None
) -> tuple[list[str], Alignment]:
    """Map engine ``(name, start_s, end_s)`` segments to ARPAbet phones and their timings.

    A segment that maps to several phones (syllabic ``el`` → ``AH L``, IPA ``ɑːɹ`` → ``AA R``)
    is split into equal parts. With ``duration_s`` (the audio length, seconds) segments are
    clipped to the audio and those starting at or after its end dropped. Times are rounded to 0.1 ms.

    Returns:
        ``(phones, alignment)``: the ARPAbet phones in order, and ``[(phone, start_s, end_s), ...]``.
    """
    phones: list[str] = []
    alignment: Alignment = []
    for name, start, end in segments:
        mapped = to_arpabet(name)
        for i, phone in enumerate(mapped):
            a = start + (end - start) * i / len(mapped)
            b = start + (end - start) * (i + 1) / len(mapped)
            if duration_s is not None:
                if a >= duration_s:
                    continue
                b = min(b, duration_s)
            phones.append(phone)
            alignment.append((phone, round(a, 4), round(b, 4)))
    return phones, alignment


def ends_to_segments(ends: Iterable[tuple[str, float]], offset_s: float = 0.0) -> list[tuple[str, float, float]]:
    """``(name, end_s)`` pairs, each segment starting where the previous ended (the first at 0) → ``(name, start_s, end_s)``, shifted by ``offset_s``."""
    segments = []
    start = 0.0
    for name, end in ends:
        segments.append((name, start + offset_s, end + offset_s))
        start = end
    return segments
