"""Word and character error rates over a corpus, after :func:`~spokenlm.eval.textnorm.normalize`.

Rates are corpus-level (total edits / total reference units), as jiwer computes
them; an empty normalised reference counts its hypothesis words as insertions.
"""

from __future__ import annotations

from collections.abc import Sequence

from spokenlm.errors import SpokenLMError
from spokenlm.eval.textnorm import normalize


def edit_operations(reference: Sequence[str], hypothesis: Sequence[str]) -> tuple[int, int, int]:
    """(substitutions, deletions, insertions) of a minimal Levenshtein alignment of two token sequences (each costs 1)."""
    # each cell: (total edits, substitutions, deletions, insertions); ties prefer substitutions, then deletions
    previous = [(j, 0, 0, j) for j in range(len(hypothesis) + 1)]
    for i, ref in enumerate(reference, 1):
        current = [(i, 0, i, 0)]
        for j, hyp in enumerate(hypothesis, 1):
            diagonal, up, left = previous[j - 1], previous[j], current[j - 1]
            match = ref == hyp
            current.append(min(
                (diagonal[0] + (not match), diagonal[1] + (not match), diagonal[2], diagonal[3]),
                (up[0] + 1, up[1], up[2] + 1, up[3]),
                (left[0] + 1, left[1], left[2], left[3] + 1),
                key=lambda cell: cell[0],
            ))
        previous = current
    _, substitutions, deletions, insertions = previous[-1]
    return substitutions, deletions, insertions


def _edits(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (substitutions, deletions, insertions cost 1)."""
    return sum(edit_operations(reference, hypothesis))


def error_rates(references: list[str], hypotheses: list[str]) -> dict[str, float]:
    """Corpus WER and CER of ``hypotheses`` against ``references`` (both normalised first).

    Returns ``{"wer": ..., "cer": ..., "words": N_ref_words, "chars": N_ref_chars}``;
    rates are fractions (0.1 = 10 %). CER counts characters of the space-joined words.
    """
    if len(references) != len(hypotheses):
        raise SpokenLMError(f"error_rates: {len(references)} references but {len(hypotheses)} hypotheses")
    word_edits = char_edits = words = chars = 0
    for ref, hyp in zip(references, hypotheses):
        ref_n, hyp_n = normalize(ref), normalize(hyp)
        word_edits += _edits(ref_n.split(), hyp_n.split())
        char_edits += _edits(ref_n, hyp_n)
        words += len(ref_n.split())
        chars += len(ref_n)
    return {
        "wer": word_edits / max(words, 1),
        "cer": char_edits / max(chars, 1),
        "words": float(words),
        "chars": float(chars),
    }
