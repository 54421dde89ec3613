"""Phone alignments: forced alignment with pocketsphinx, engine timings from supervisions, frame labels.

A phone alignment is a list of :class:`PhoneSegment` ``(phone, start, end)``
with ARPAbet phones without stress (``"AA"`` … ``"ZH"``) plus ``"SIL"``, times in
seconds. :func:`frame_labels` turns it into one label per frame at a frame rate
(Hz) so that metrics (ABX, PNMI) can pair labels with tokenizer frames.
"""

from spokenlm.align.phones import ARPABET, SILENCE, PhoneSegment, frame_labels, normalize_phone

__all__ = ["ARPABET", "SILENCE", "PhoneSegment", "frame_labels", "normalize_phone"]
