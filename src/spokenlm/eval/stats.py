"""Confidence intervals for accuracies: Wilson score interval and percentile bootstrap (of a mean, or of a pooled ratio
such as a WER: errors over reference words, summed over the resampled utterances)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass
class Estimate:
    """A proportion (or mean) with its confidence interval ``[low, high]`` at ``confidence``."""

    value: float
    low: float
    high: float
    count: int
    confidence: float = 0.95

    def as_dict(self) -> dict[str, float]:
        """JSON-ready ``{value, low, high, count, confidence}``."""
        return {"value": self.value, "low": self.low, "high": self.high, "count": self.count, "confidence": self.confidence}


def wilson_interval(successes: float, count: int, confidence: float = 0.95) -> Estimate:
    """Wilson score interval of the proportion ``successes / count`` (``successes`` may hold halves for ties)."""
    if count <= 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, confidence)
    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / count
    denom = 1 + z * z / count
    centre = (p + z * z / (2 * count)) / denom
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), count, confidence)


def bootstrap_interval(values: Sequence[float], confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> Estimate:
    """Percentile-bootstrap interval of the mean of ``values`` (``resamples`` seeded resamples)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, confidence)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Estimate(float(data.mean()), float(low), float(high), int(data.size), confidence)


def bootstrap_ratio_interval(
    numerators: Sequence[float], denominators: Sequence[float], confidence: float = 0.95, resamples: int = 2000, seed: int = 0,
) -> Estimate:
    """Percentile-bootstrap interval of the pooled ratio ``sum(numerators) / sum(denominators)`` over items resampled with
    replacement (e.g. word errors and reference words per utterance: the corpus WER). Resamples whose denominators sum to
    0 are left out."""
    top, bottom = np.asarray(numerators, dtype=np.float64), np.asarray(denominators, dtype=np.float64)
    if top.shape != bottom.shape:
        raise ValueError(f"{top.size} numerators but {bottom.size} denominators")
    if top.size == 0 or bottom.sum() <= 0:
        return Estimate(float("nan"), float("nan"), float("nan"), int(top.size), confidence)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, top.size, size=(resamples, top.size))
    sums = bottom[picks].sum(axis=1)
    ratios = top[picks].sum(axis=1)[sums > 0] / sums[sums > 0]
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return Estimate(float(top.sum() / bottom.sum()), float(low), float(high), int(top.size), confidence)
