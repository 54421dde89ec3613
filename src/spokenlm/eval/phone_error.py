"""Phone error rate (PER): how far phone tokens are from the phones that were said.

Both sides are compared as phone sequences without silence and with runs of one phone collapsed
(deduplicated tokens cannot hold the same phone twice in a row, so the references lose such
doublings too). ``PER = (substitutions + deletions + insertions) / reference phones``, pooled over
utterances; insertions are what frame-to-frame flicker adds.

:func:`meant_vs_said` turns it round for generation: the reference is what a unit LM meant (its own
phone-unit continuation), the hypothesis what a listener heard (the phones of the ASR transcript of the
voiced continuation). Only when that PER is low do the transcripts' words mean that our speech says them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from spokenlm.align.lexicon import pronunciation, text_to_words
from spokenlm.align.phones import SILENCE
from spokenlm.errors import SpokenLMError
from spokenlm.eval.wer import edit_operations


def phone_sequence(labels: Iterable[str]) -> list[str]:
    """``labels`` without silence and with repeated phones collapsed: ``SIL K K AE SIL T`` → ``K AE T``."""
    out: list[str] = []
    for label in labels:
        if label != SILENCE and (not out or out[-1] != label):
            out.append(label)
    return out


def text_phones(text: str) -> list[str]:
    """The dictionary phones of ``text`` (CMUdict's first pronunciation of each word, espeak-ng for the rest)."""
    phones: list[str] = []
    for word in text_to_words(text):
        phones += pronunciation(word) or []
    return phone_sequence(phones)


def phone_error_rate(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> dict[str, float]:
    """Pooled PER of phone-label ``hypotheses`` against ``references`` (both cleaned by :func:`phone_sequence`).

    Returns ``per``, ``substitutions``, ``deletions``, ``insertions`` (each a share of the reference
    phones), ``phones`` (reference phones) and ``utterances``.
    """
    if len(references) != len(hypotheses):
        raise SpokenLMError(f"phone_error_rate: {len(references)} references but {len(hypotheses)} hypotheses")
    totals = [0, 0, 0]
    phones = 0
    for reference, hypothesis in zip(references, hypotheses):
        ref = phone_sequence(reference)
        for k, count in enumerate(edit_operations(ref, phone_sequence(hypothesis))):
            totals[k] += count
        phones += len(ref)
    denominator = max(phones, 1)
    substitutions, deletions, insertions = (count / denominator for count in totals)
    return {"per": substitutions + deletions + insertions, "substitutions": substitutions, "deletions": deletions,
            "insertions": insertions, "phones": float(phones), "utterances": float(len(references))}


def tokenizer_phone_error(tokenizer: Any, cuts: Iterable[Any]) -> dict[str, float]:
    """PER of a phone tokenizer's tokens (``tokenizer.phone_labels``) on lhotse ``cuts`` whose first supervision holds
    its phones (engine timings or an alignment: :func:`~spokenlm.align.formats.supervision_phones`); cuts without
    phones are left out. Returns :func:`phone_error_rate`'s keys, and ``per:<speaker>`` for each speaker."""
    from spokenlm.align.formats import supervision_phones
    from spokenlm.audio.loader import load_cut

    references, hypotheses, speakers = [], [], []
    for cut in cuts:
        segments = supervision_phones(cut.supervisions[0])
        if not segments:
            continue
        wav = load_cut(cut, tokenizer.sample_rate)
        references.append([s.phone for s in segments])
        hypotheses.append(tokenizer.phone_labels(tokenizer.encode(wav, tokenizer.sample_rate)[0]))
        speakers.append(str(cut.supervisions[0].speaker))
    results = phone_error_rate(references, hypotheses)
    for speaker in sorted(set(speakers)):
        mine = [i for i, s in enumerate(speakers) if s == speaker]
        results[f"per:{speaker}"] = phone_error_rate([references[i] for i in mine], [hypotheses[i] for i in mine])["per"]
    return results


def meant_vs_said(continuations: Sequence[tuple[Sequence[int], str]], unit_phones: Sequence[str]) -> dict[str, float]:
    """PER of what was said against what the LM meant, pooled over ``(units [n], transcript)`` continuations.

    The reference is each continuation's unit ids mapped to phones by ``unit_phones`` (the phone tokenizer's
    label of each id), without silence and with repeats collapsed; the hypothesis is :func:`text_phones` of the
    transcript (CMUdict). Returns what :func:`phone_error_rate` returns.
    """
    references = [[unit_phones[int(u)] for u in units] for units, _ in continuations]
    return phone_error_rate(references, [text_phones(transcript) for _, transcript in continuations])
