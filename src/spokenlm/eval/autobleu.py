"""auto-BLEU (within-utterance repetition) and self-BLEU (across-utterance similarity) as GSLM defines them.

Both follow fairseq ``examples/textless_nlp/gslm/metrics/asr_metrics/self_auto_bleu.py``:

- auto-BLEU_N of one utterance: for each order n ≤ N, the share of its n-grams
  that occur elsewhere in the same utterance (not overlapping that position);
  combined over orders with ``weights`` by a geometric (or arithmetic) mean.
- self-BLEU_N of utterance i: BLEU of i against all other utterances as
  references, without brevity penalty and without smoothing (clipped n-gram
  precision, geometric or arithmetic mean). A zero precision gives 0.

Utterances are token lists (words of transcripts, or units).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence

import numpy as np

Utterance = Sequence[Hashable]


def ngrams(tokens: Utterance, n: int) -> list[tuple]:
    """All n-grams of ``tokens`` in order."""
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _combine(precisions: np.ndarray, weights: Sequence[float], mean: str) -> float:
    weights = np.asarray(weights, dtype=np.float64)
    if mean == "geometric":
        return float(np.prod(precisions**weights))
    if mean == "arithmetic":
        return float(np.sum(precisions * weights))
    raise ValueError(f"unknown mean {mean!r} (geometric or arithmetic)")


def auto_bleu(tokens: Utterance, weights: Sequence[float] = (0.5, 0.5), mean: str = "geometric") -> float:
    """auto-BLEU of one utterance (0 for fewer than two tokens)."""
    if len(tokens) <= 1:
        return 0.0
    precisions = np.zeros(len(weights))
    for order in range(1, len(weights) + 1):
        grams = ngrams(tokens, order)
        if not grams:
            continue
        repeated = 0
        for p, gram in enumerate(grams):
            rest = ngrams(tokens[:p], order) + ngrams(tokens[p + order :], order)
            repeated += gram in rest
        precisions[order - 1] = repeated / len(grams)
    return _combine(precisions, weights, mean)


def clipped_precision(references: Sequence[Utterance], hypothesis: Utterance, order: int) -> tuple[int, int]:
    """BLEU's modified precision: (clipped matches, hypothesis n-grams) of ``hypothesis`` against ``references``."""
    counts = Counter(ngrams(hypothesis, order))
    if not counts:
        return 0, 0
    best: Counter = Counter()
    for reference in references:
        for gram, count in Counter(ngrams(reference, order)).items():
            if gram in counts:
                best[gram] = max(best[gram], count)
    return sum(min(c, best[g]) for g, c in counts.items()), sum(counts.values())


def self_bleu(utterances: Sequence[Utterance], weights: Sequence[float] = (0.5, 0.5), mean: str = "geometric") -> list[float]:
    """self-BLEU of each utterance against all the others."""
    scores = []
    for i, hypothesis in enumerate(utterances):
        references = [u for j, u in enumerate(utterances) if j != i]
        precisions = []
        for order in range(1, len(weights) + 1):
            matched, total = clipped_precision(references, hypothesis, order)
            precisions.append(matched / total if total else 0.0)
        scores.append(0.0 if precisions[0] == 0 else _combine(np.asarray(precisions), weights, mean))
    return scores
