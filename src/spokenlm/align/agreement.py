"""How closely two phone alignments of the same utterance agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spokenlm.align.phones import PhoneSegment, frame_labels


@dataclass
class BoundaryAgreement:
    """Agreement of a hypothesis alignment with a reference.

    Attributes:
        within_tolerance: share of reference boundaries with a hypothesis boundary within the tolerance.
        mean_abs_error: mean distance (s) from each reference boundary to the nearest hypothesis boundary.
        frame_agreement: share of 10 ms frames carrying the same phone in both.
        boundaries: number of reference boundaries compared.
    """

    within_tolerance: float
    mean_abs_error: float
    frame_agreement: float
    boundaries: int


def _inner_boundaries(segments: Sequence[PhoneSegment]) -> np.ndarray:
    return np.array([s.end for s in segments[:-1]], dtype=np.float64)


def boundary_agreement(
    reference: Sequence[PhoneSegment], hypothesis: Sequence[PhoneSegment], tolerance: float = 0.02
) -> BoundaryAgreement:
    """Compare phone boundaries (between consecutive segments) and frame labels of two alignments; ``tolerance`` in s."""
    ref = _inner_boundaries(reference)
    hyp = _inner_boundaries(hypothesis)
    if ref.size and hyp.size:
        distance = np.abs(ref[:, None] - hyp[None, :]).min(axis=1)
    else:
        distance = np.full(ref.size, np.inf)
    end = max(reference[-1].end if reference else 0.0, hypothesis[-1].end if hypothesis else 0.0)
    frames = int(round(end * 100))
    ref_labels = frame_labels(reference, 100.0, frames)
    hyp_labels = frame_labels(hypothesis, 100.0, frames)
    same = sum(a == b for a, b in zip(ref_labels, hyp_labels))
    return BoundaryAgreement(
        within_tolerance=float(np.mean(distance <= tolerance + 1e-9)) if ref.size else 1.0,
        mean_abs_error=float(np.mean(distance)) if ref.size else 0.0,
        frame_agreement=same / frames if frames else 1.0,
        boundaries=int(ref.size),
    )
