"""Word alignments: word segments, and engine phone timings grouped into the words of the transcript.

A word alignment is a list of :class:`WordSegment` ``(word, start, end)``, times in seconds, words as
:func:`~spokenlm.align.lexicon.text_to_words` writes them (lowercase). A TTS engine times its phones
but not its words, and it may pronounce a word differently from the dictionary, so
:func:`group_phones` aligns the engine's phones to the dictionary pronunciations of the transcript's
words (edit distance) and gives each word the span of the engine phones matched to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spokenlm.align.lexicon import pronunciation
from spokenlm.align.phones import SILENCE, PhoneSegment


@dataclass(frozen=True)
class WordSegment:
    """One word of an alignment: ``word`` (lowercase), ``start`` and ``end`` in seconds."""

    word: str
    start: float
    end: float


def _edit_path(reference: Sequence[str], hypothesis: Sequence[str]) -> list[int | None]:
    """For each hypothesis phone, the reference phone it is matched or substituted to (``None`` for an insertion),
    on a minimum edit-distance path (unit costs; ties prefer a match/substitution)."""
    n, m = len(reference), len(hypothesis)
    cost = np.zeros((n + 1, m + 1), dtype=np.int64)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + (reference[i - 1] != hypothesis[j - 1]), cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    matched: list[int | None] = [None] * m
    i, j = n, m
    while i and j:
        if cost[i, j] == cost[i - 1, j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            i, j = i - 1, j - 1
            matched[j] = i
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return matched


def group_phones(words: Sequence[str], phones: Sequence[PhoneSegment],
                 lexicon: Callable[[str], list[str] | None] = pronunciation) -> list[WordSegment | None]:
    """The span of each of ``words`` in the timed ``phones`` (silence ignored), ``None`` for a word no phone was matched to.

    A phone the engine inserted (no dictionary phone on the edit path) joins the word of the phone before it
    (the first word when it comes first). A word without a pronunciation in ``lexicon`` gets ``None``.
    """
    spoken = [p for p in phones if p.phone != SILENCE]
    reference, owner = [], []
    for index, word in enumerate(words):
        pron = lexicon(word) or []
        reference += pron
        owner += [index] * len(pron)
    spans: list[list[float]] = [[] for _ in words]
    current = 0 if words else None
    for phone, ref in zip(spoken, _edit_path(reference, [p.phone for p in spoken])):
        if ref is not None:
            current = owner[ref]
        if current is not None:
            spans[current] += [phone.start, phone.end]
    return [WordSegment(word, min(span), max(span)) if span else None for word, span in zip(words, spans)]
