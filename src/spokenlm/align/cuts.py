"""Phone and word alignments of lhotse cuts: engine timings from the supervisions where present, else forced alignment."""

from __future__ import annotations

from typing import Any

import numpy as np

from spokenlm.align.formats import supervision_phones
from spokenlm.align.lexicon import text_to_words
from spokenlm.align.phones import PhoneSegment
from spokenlm.align.pocketsphinx_aligner import AlignmentError, PocketsphinxAligner, default_aligner
from spokenlm.align.words import WordSegment, group_phones


def cut_phones(cut: Any, wav: np.ndarray, sr: int, aligner: PocketsphinxAligner | None = None) -> list[PhoneSegment]:
    """Phone segments of ``cut`` with times in seconds from the cut's start.

    ``wav`` ``[samples]`` at ``sr`` Hz is the cut's audio. Each supervision gives
    its stored phone timings (``custom["alignment"]`` or lhotse's ``alignment["phones"]``)
    or, lacking them, a pocketsphinx alignment of its ``text``. Raises
    :class:`AlignmentError` naming the cut when a supervision has neither.
    """
    segments: list[PhoneSegment] = []
    if not cut.supervisions:
        raise AlignmentError(cut.id, "cut has no supervision")
    for supervision in sorted(cut.supervisions, key=lambda s: s.start):
        phones = supervision_phones(supervision)
        if phones is None:
            if not supervision.text:
                raise AlignmentError(cut.id, f"supervision {supervision.id} has neither phone timings nor text")
            first = max(0, int(round(supervision.start * sr)))
            piece = wav[first : first + int(round(supervision.duration * sr))]
            phones = (aligner or default_aligner()).align(piece, sr, supervision.text, source=cut.id)
        segments += [PhoneSegment(p.phone, p.start + supervision.start, p.end + supervision.start) for p in phones]
    return segments


def supervision_word_segments(supervision: Any, wav: np.ndarray, sr: int, source: str,
                              aligner: PocketsphinxAligner | None = None) -> tuple[list[WordSegment], list[str]]:
    """The aligned words of ``supervision`` (seconds from its start) and the words that could not be aligned.

    ``wav`` ``[samples]`` at ``sr`` Hz is the supervision's own audio. Stored engine phone timings (synthesized
    speech) are grouped into words (:func:`~spokenlm.align.words.group_phones`); otherwise the text is force-aligned
    with pocketsphinx, and a failed alignment leaves every word unaligned. Raises :class:`AlignmentError` naming
    ``source`` when the supervision has no transcript.
    """
    words = text_to_words(supervision.text or "")
    if not words:
        raise AlignmentError(source, f"supervision {supervision.id} has no transcript")
    phones = supervision_phones(supervision)
    if phones is None:
        return (aligner or default_aligner()).align_words(wav, sr, supervision.text, source=source), []
    grouped = group_phones(words, phones)
    return [w for w in grouped if w is not None], [word for word, w in zip(words, grouped) if w is None]
