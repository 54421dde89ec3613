"""Phone-normalized mutual information and purities of units against frame phone labels (HuBERT paper, §IV-D).

With ``y`` the phone and ``z`` the unit of a frame, estimated from joint counts:

* PNMI = I(y; z) / H(y): share of phone uncertainty a unit removes (1 = units determine phones).
* phone purity = E_z[max_y p(y | z)]: accuracy of labelling each unit with its most frequent phone.
* cluster purity = E_y[max_z p(z | y)]: accuracy of labelling each phone with its most frequent unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class PhoneUnitScores:
    """PNMI, phone purity and cluster purity (all in [0, 1]) over ``frames`` frames."""

    pnmi: float
    phone_purity: float
    cluster_purity: float
    frames: int


def joint_distribution(phones: Sequence[str], units: Sequence[int] | np.ndarray) -> np.ndarray:
    """Empirical joint p(phone, unit) ``[num_phones, num_units]`` of frame-aligned ``phones`` ``[T]`` and ``units`` ``[T]``."""
    if len(phones) != len(units):
        raise ValueError(f"{len(phones)} phone labels but {len(units)} units")
    if len(phones) == 0:
        raise ValueError("no frames to score")
    _, phone_ids = np.unique(np.asarray(phones), return_inverse=True)
    _, unit_ids = np.unique(np.asarray(units), return_inverse=True)
    counts = np.zeros((phone_ids.max() + 1, unit_ids.max() + 1))
    np.add.at(counts, (phone_ids, unit_ids), 1.0)
    return counts / counts.sum()


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def phone_unit_scores(phones: Sequence[str], units: Sequence[int] | np.ndarray) -> PhoneUnitScores:
    """Score frame-level units ``[T]`` against frame-level phone labels ``[T]``."""
    joint = joint_distribution(phones, units)
    p_phone = joint.sum(axis=1)
    p_unit = joint.sum(axis=0)
    phone_entropy = _entropy(p_phone)
    mutual_information = phone_entropy + _entropy(p_unit) - _entropy(joint.ravel())
    return PhoneUnitScores(
        pnmi=mutual_information / phone_entropy if phone_entropy > 0 else 0.0,
        phone_purity=float(joint.max(axis=0).sum()),
        cluster_purity=float(joint.max(axis=1).sum()),
        frames=len(phones),
    )
