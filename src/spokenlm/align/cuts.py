"""Phone alignments of lhotse cuts: engine timings from the supervisions where present, else forced alignment."""

from __future__ import annotations

from typing import Any

import numpy as np

from spokenlm.align.formats import supervision_phones
from spokenlm.align.phones import PhoneSegment
from spokenlm.align.pocketsphinx_aligner import AlignmentError, PocketsphinxAligner, default_aligner


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
