"""VERT and the perplexity-VERT area under the curve over sampling temperatures (GSLM).

VERT (Lakhotia et al. 2021) is the geometric mean of the corpus-mean
self-BLEU2 and auto-BLEU2 (both geometric over unigrams and bigrams): it grows
both when continuations repeat themselves and when they repeat each other.

Sampling at several temperatures traces a curve of perplexity (quality) against
VERT (diversity). :func:`perplexity_vert_auc` integrates perplexity over VERT
(trapezoids, points ordered by VERT), limited to VERT between the curve's lowest
value and the oracle VERT (the VERT of real continuations) when that is given,
interpolating linearly at the bound; lower is better. It also reports the
perplexity at the oracle VERT and the VERT at the oracle perplexity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from spokenlm.eval.autobleu import Utterance, auto_bleu, self_bleu


def vert(utterances: Sequence[Utterance]) -> float:
    """``sqrt(mean self-BLEU2 × mean auto-BLEU2)`` of a set of utterances (token lists)."""
    if len(utterances) < 2:
        raise ValueError("VERT needs at least two utterances")
    return math.sqrt(float(np.mean(self_bleu(utterances))) * float(np.mean([auto_bleu(u) for u in utterances])))


def _interp(x: float, xs: np.ndarray, ys: np.ndarray) -> float:
    """Linear interpolation of y at x on the increasing curve (xs, ys); ``nan`` outside it."""
    return float(np.interp(x, xs, ys)) if xs[0] <= x <= xs[-1] else float("nan")


def perplexity_vert_auc(
    verts: Sequence[float], perplexities: Sequence[float], oracle_vert: float | None = None, oracle_perplexity: float | None = None
) -> dict[str, float]:
    """AUC of perplexity over VERT, plus ``ppl_at_oracle_vert`` and ``vert_at_oracle_ppl`` (``nan`` when out of range)."""
    order = np.argsort(np.asarray(verts, dtype=np.float64))
    xs = np.asarray(verts, dtype=np.float64)[order]
    ys = np.asarray(perplexities, dtype=np.float64)[order]
    if xs.size < 2:
        raise ValueError("the AUC needs at least two temperatures")
    high = xs[-1] if oracle_vert is None else min(oracle_vert, xs[-1])
    inside = xs < high
    grid_x = np.concatenate([xs[inside], [high]])
    grid_y = np.concatenate([ys[inside], [np.interp(high, xs, ys)]])
    result = {"auc": float(np.trapezoid(grid_y, grid_x)), "vert_range": [float(xs[0]), float(high)]}
    if oracle_vert is not None:
        result["ppl_at_oracle_vert"] = _interp(oracle_vert, xs, ys)
    if oracle_perplexity is not None:
        by_ppl = np.argsort(ys)
        result["vert_at_oracle_ppl"] = _interp(oracle_perplexity, ys[by_ppl], xs[by_ppl])
    return result
