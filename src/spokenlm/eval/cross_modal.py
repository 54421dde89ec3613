"""Cross-modal pair scoring for speech+text LMs: StoryCloze- and sWUGGY-style pairs in T→T, S→S, T→S and S→T.

An item is a context (empty for sWUGGY) and two endings, each given in both modalities: speech units and text ids
(model ids of the joint vocabulary; a text ending is encoded as it reads after its context, e.g. with its leading
space). A direction ``P→E`` writes the context in modality ``P`` and the endings in ``E``, as the sequence formats
of training do (``spokenlm.layouts.formats``)::

    prompt        = BOS [marker of P] context-in-P [marker of E, when E differs from P]
    continuation  = ending-in-E

The score of an ending is its conditional log-likelihood ``log p(continuation | prompt)`` in nats, summed over its
tokens (and divided by their number for the normalised variant): computed as the log-likelihood of
``prompt + continuation`` minus that of ``prompt`` under any scorer of model-id sequences (the first token is
context), so a :class:`~spokenlm.models.unit_lm.UnitLM` (:func:`spokenlm.models.scoring.log_likelihood`) and a
hand-made scorer in a test fit alike. Accuracy and intervals are those of :mod:`spokenlm.eval.pairs`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.eval.pairs import PairScore, summarize
from spokenlm.layouts.interleave import WordSpan

DIRECTIONS: dict[str, tuple[str, str]] = {"T→T": ("text", "text"), "S→S": ("speech", "speech"),
                                          "T→S": ("text", "speech"), "S→T": ("speech", "text")}
"""Direction name → (modality of the context, modality of the endings)."""

SequenceScorer = Callable[[Sequence[np.ndarray], int], tuple[torch.Tensor, torch.Tensor]]
"""``(model-id sequences [T_i], batch_size) → (summed log-probs [N], scored tokens [N])``, the first token context."""


@dataclass(frozen=True)
class Bimodal:
    """One piece of an item in both modalities: speech unit model ids ``[T_s]`` and text model ids ``[T_t]``."""

    speech: np.ndarray
    text: np.ndarray

    def of(self, modality: str) -> np.ndarray:
        return np.asarray(self.speech if modality == "speech" else self.text, dtype=np.int64)


@dataclass(frozen=True)
class CrossModalItem:
    """A pair: ``context`` (both modalities empty for sWUGGY) and its ``positive`` and ``negative`` endings."""

    pair_id: str
    subset: str
    context: Bimodal
    positive: Bimodal
    negative: Bimodal


def _marker(vocab: Vocabulary, modality: str) -> int:
    return vocab.speech_id if modality == "speech" else vocab.text_id


def prompt_and_continuation(item: CrossModalItem, ending: Bimodal, direction: str, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """The ``(prompt [P], continuation [C])`` model ids of one ending of ``item`` in ``direction`` (see the module docstring)."""
    if direction not in DIRECTIONS:
        raise SpokenLMError(f"unknown direction {direction!r}; known: {', '.join(DIRECTIONS)}")
    context, target = DIRECTIONS[direction]
    switch = [_marker(vocab, target)] if target != context else []
    prompt = np.concatenate([[vocab.bos_id, _marker(vocab, context)], item.context.of(context), switch]).astype(np.int64)
    continuation = ending.of(target)
    if not continuation.size:
        raise SpokenLMError(f"pair {item.pair_id}: an ending has no {target} tokens")
    return prompt, continuation


def score_cross_modal(scorer: SequenceScorer, items: Sequence[CrossModalItem], direction: str, vocab: Vocabulary,
                      batch_size: int = 32) -> list[PairScore]:
    """Conditional log-likelihoods of both endings of every item in ``direction``; ``positive_tokens`` /
    ``negative_tokens`` are the endings' token counts."""
    pieces = [prompt_and_continuation(item, ending, direction, vocab) for item in items for ending in (item.positive, item.negative)]
    prompts = [p for p, _ in pieces]
    full = [np.concatenate([p, c]) for p, c in pieces]
    both, _ = scorer([*full, *prompts], batch_size)
    conditional = (both[: len(full)] - both[len(full) :]).tolist()
    return [PairScore(item.pair_id, item.subset, conditional[2 * n], conditional[2 * n + 1], len(pieces[2 * n][1]), len(pieces[2 * n + 1][1]))
            for n, item in enumerate(items)]


def modality_matrix(scorer: SequenceScorer, items: Sequence[CrossModalItem], vocab: Vocabulary, directions: Sequence[str] = tuple(DIRECTIONS),
                    batch_size: int = 32, confidence: float = 0.95) -> dict[str, dict]:
    """Per direction, :func:`spokenlm.eval.pairs.summarize` of :func:`score_cross_modal` (accuracy with Wilson intervals)."""
    return {d: summarize(score_cross_modal(scorer, items, d, vocab, batch_size), confidence) for d in directions}


def split_items(units: Sequence[np.ndarray], spans: Sequence[Sequence[WordSpan]], ids: Sequence[str], vocab: Vocabulary,
                seed: int = 0, context_fraction: float = 0.5) -> list[CrossModalItem]:
    """tStoryCloze-style items from aligned utterances: the first ``context_fraction`` of an utterance's words is the
    context, the rest its true ending, and the ending of another utterance (seeded choice) the wrong one.

    ``units[n]`` ``[T_n]`` are utterance ``n``'s speech units (not yet model ids), ``spans[n]`` its words as token spans
    with model text ids (:func:`spokenlm.data.interleaved.word_spans`). The speech of a split runs from the first
    ending word's start token; utterances of fewer than 2 words are left out.
    """
    pieces = []
    for row, words, name in zip(units, spans, ids):
        if len(words) < 2:
            continue
        k = min(max(1, int(round(context_fraction * len(words)))), len(words) - 1)
        speech = np.asarray(row, dtype=np.int64) + vocab.unit_offset
        cut = words[k].start

        def text(part: Sequence[WordSpan]) -> np.ndarray:
            return np.asarray([t for w in part for t in w.text], dtype=np.int64)

        pieces.append((name, Bimodal(speech[words[0].start : cut], text(words[:k])), Bimodal(speech[cut : words[-1].end], text(words[k:]))))
    if len(pieces) < 2:
        raise SpokenLMError(f"need at least 2 utterances of 2 or more words for story items, got {len(pieces)}")
    rng = np.random.default_rng(seed)
    items = []
    for n, (name, context, ending) in enumerate(pieces):
        other = (n + 1 + int(rng.integers(len(pieces) - 1))) % len(pieces)
        items.append(CrossModalItem(name, "story", context, ending, pieces[other][2]))
    return items
