"""Evaluation of a speech-aware text LM on held-out instruction examples, with the baselines that make it mean something.

Per task: ``asr`` scores the WER of the answers against the transcripts; every other task the accuracy of the answer
(normalised exact match) with its 95 % Wilson interval, beside

- the majority-class baseline: the most frequent training answer of that task, always given;
- the question-only baseline: the same model given the question with empty audio (no speech tokens);
- the cascade, where given: an ASR transcript (Whisper base) in place of the speech, answered by a text-only model.

The speech rate of the adapter (tokens per second of speech) is reported too, measured on the examples.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from spokenlm.data.instructions import Example, corpus_examples
from spokenlm.eval.asr import ASR
from spokenlm.eval.stats import wilson_interval
from spokenlm.eval.textnorm import normalize
from spokenlm.eval.wer import error_rates
from spokenlm.models.salm import SALM, Turn


def accuracy(references: Sequence[str], answers: Sequence[str]) -> dict[str, float]:
    """Share of normalised exact matches, with its 95 % Wilson interval (``value``, ``low``, ``high``, ``count``)."""
    hits = sum(normalize(r) == normalize(a) for r, a in zip(references, answers, strict=True))
    return wilson_interval(hits, len(references)).as_dict()


def score(task: str, references: Sequence[str], answers: Sequence[str]) -> dict[str, float]:
    """WER (``asr``) or accuracy (every other task) of ``answers``."""
    return error_rates(list(references), list(answers)) if task == "asr" else accuracy(references, answers)


def answer_all(model: SALM, turns: list[Turn], batch: int = 16, max_tokens: int = 32) -> list[str]:
    """Greedy answers of ``model`` to every turn, ``batch`` at a time."""
    return [a for i in range(0, len(turns), batch) for a in model.answer(turns[i : i + batch], max_tokens)]


def speech_rate(model: SALM, features: Sequence[torch.Tensor]) -> float:
    """Speech tokens the adapter gives per second of speech over ``features`` (each ``[T, D_enc]``)."""
    tokens = sum(len(e) for e in model.speech_embeddings([Turn("", f) for f in features]))
    seconds = sum(len(f) for f in features) / model.config.frame_rate
    return tokens / max(seconds, 1e-9)


def evaluate(model: SALM, examples: Sequence[Example], features: dict[str, torch.Tensor], train: Sequence[Example],
             cascade: tuple[SALM, Callable[[Example], str]] | None = None, max_tokens: int = 32) -> dict[str, Any]:
    """Scores of ``model`` on ``examples`` (their features by cut id) per task, with the baselines of the module docstring.

    ``train``: the training examples (for the majority answer). ``cascade``: a text-only model and a function giving each
    example's ASR transcript.
    """
    by_task: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        if e.cut_id in features:
            by_task[e.task].append(e)
    majority = {task: Counter(e.answer for e in train if e.task == task).most_common(1) for task in by_task}
    results: dict[str, Any] = {}
    with torch.no_grad():
        for task, items in sorted(by_task.items()):
            references = [e.answer for e in items]
            turns = [Turn(e.instruction, features[e.cut_id], e.transcript) for e in items]
            row = {"examples": len(items), "model": score(task, references, answer_all(model, turns, max_tokens=max_tokens))}
            row["question_only"] = score(task, references, answer_all(model, [replace(t, features=None) for t in turns], max_tokens=max_tokens))
            if majority[task]:
                row["majority"] = score(task, references, [majority[task][0][0]] * len(items))
            if cascade is not None:
                text_model, transcribe = cascade
                text_turns = [Turn(e.instruction, None, transcribe(e)) for e in items]
                row["cascade"] = score(task, references, answer_all(text_model, text_turns, max_tokens=max_tokens))
            results[task] = row
        used = list({e.cut_id: features[e.cut_id] for items in by_task.values() for e in items}.values())
        results["speech_tokens_per_second"] = speech_rate(model, used) if used else float("nan")
    return results


def evaluate_run(model_dir: str | Path, corpora: Sequence[str | Path], text_model_dir: str | Path | None = None,
                 asr: ASR | None = None, split: str = "test", max_tokens: int = 32) -> dict[str, Any]:
    """:func:`evaluate` of the SALM in ``model_dir`` on the ``split`` examples of ``corpora`` (features from the model's
    encoder, cached per corpus); with ``text_model_dir`` and ``asr``, the cascade ``asr`` transcript → that text model."""
    from spokenlm.audio.loader import iter_cuts, load_cut
    from spokenlm.audio.reporting import report_skipped
    from spokenlm.encoders import build_encoder
    from spokenlm.encoders.cache import corpus_features

    model = SALM.from_pretrained(model_dir)
    features, skipped = corpus_features(build_encoder(model.config.encoder), corpora)
    report_skipped(skipped, what="cut(s) without features")
    examples = [e for corpus in corpora for e in corpus_examples(corpus)]
    tested = [e for e in examples if e.split == split]
    cascade = None
    if text_model_dir is not None and asr is not None:
        cuts = {cut.id: cut for corpus in corpora for cut in iter_cuts(Path(corpus) / "cuts.jsonl.gz")}
        transcripts = {cut_id: asr.transcribe(load_cut(cuts[cut_id], 16000), 16000) for cut_id in {e.cut_id for e in tested}}
        cascade = (SALM.from_pretrained(text_model_dir), lambda e: transcripts[e.cut_id])
    results = evaluate(model, tested, features, [e for e in examples if e.split == "train"], cascade, max_tokens)
    if asr is not None and cascade is not None:
        asr_items = [e for e in tested if e.task == "asr"]
        results.setdefault("asr", {})["whisper_base"] = score("asr", [e.answer for e in asr_items], [transcripts[e.cut_id] for e in asr_items])
    return results
