"""Tokenizer quality on phone-aligned speech: ABX (features and units), PNMI, purities, unit rate.

A corpus is a lhotse CutSet whose supervisions carry phone timings or text
(aligned with pocketsphinx, :mod:`spokenlm.align`) and speakers. For each
utterance we take the tokenizer's frame-level units (before deduplication) and,
where it has them, its continuous features (``features(wavs, sr) -> [T, D]``
as :class:`~spokenlm.tokenizers.units.UnitTokenizer` and
:class:`~spokenlm.tokenizers.phone.PhoneTokenizer` provide).

* ABX within / across speakers on features (angular DTW) and units (0/1 DTW),
* PNMI, phone purity and cluster purity of frame units vs frame phone labels,
* units per second after deduplication (runs of one unit count once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spokenlm.align.cuts import cut_phones
from spokenlm.align.phones import PhoneSegment, frame_labels
from spokenlm.align.pocketsphinx_aligner import AlignmentError
from spokenlm.errors import AudioError, ConfigError
from spokenlm.eval.abx import AbxConfig, abx_error, abx_items
from spokenlm.eval.pnmi import phone_unit_scores
from spokenlm.tokens import Tokens

EVAL_SAMPLE_RATE = 16000
"""Waveforms of the evaluation corpus are held at this rate (Hz); tokenizers resample as they need."""


@dataclass
class TokenizerEvalConfig:
    """What to evaluate on.

    Attributes:
        manifest: lhotse CutSet (``cuts.jsonl.gz``) with speakers and phone timings or text.
        split: keep only cuts whose supervisions' ``custom["split"]`` equals this (``None``: all).
        max_items: at most this many cuts (first in order).
        abx: ABX item sampling.
    """

    manifest: str = ""
    split: str | None = None
    max_items: int | None = None
    abx: AbxConfig = field(default_factory=AbxConfig)


@dataclass
class EvalUtterance:
    """One aligned utterance: ``wav`` ``[samples]`` at :data:`EVAL_SAMPLE_RATE`, its speaker and phones (s)."""

    id: str
    speaker: str
    wav: np.ndarray
    phones: list[PhoneSegment]

    @property
    def seconds(self) -> float:
        return len(self.wav) / EVAL_SAMPLE_RATE


@dataclass
class EvalCorpus:
    """Aligned utterances and the cuts that could not be used (``"id: reason"``)."""

    utterances: list[EvalUtterance]
    skipped: list[str]


@dataclass
class TokenizerReport:
    """Scores of one tokenizer (or one feature/unit pair) on an :class:`EvalCorpus`.

    ABX errors are ``None`` where no triplet could be formed (e.g. one speaker) or no features exist.
    """

    utterances: int
    skipped: int
    seconds: float
    frame_rate: float
    units_per_second: float
    pnmi: float
    phone_purity: float
    cluster_purity: float
    abx_features_within: float | None
    abx_features_across: float | None
    abx_units_within: float | None
    abx_units_across: float | None


def _keep(cut: Any, split: str | None) -> bool:
    return split is None or any((s.custom or {}).get("split", "train") == split for s in cut.supervisions)


def load_eval_corpus(config: TokenizerEvalConfig) -> EvalCorpus:
    """Load, validate and phone-align the cuts of ``config.manifest``; bad cuts are skipped and listed."""
    from rich.progress import track

    from spokenlm.audio.loader import iter_cuts, load_cut

    if not config.manifest:
        raise ConfigError("manifest is required (a lhotse CutSet with speakers and text or phone timings)")
    cuts = [c for c in iter_cuts(config.manifest) if _keep(c, config.split)]
    cuts = cuts[: config.max_items] if config.max_items else cuts
    utterances, skipped = [], []
    for cut in track(cuts, description="loading and aligning", transient=True):
        try:
            wav = load_cut(cut, EVAL_SAMPLE_RATE)
            phones = cut_phones(cut, wav, EVAL_SAMPLE_RATE)
        except (AudioError, AlignmentError) as err:
            skipped.append(str(err))
            continue
        speaker = next((s.speaker for s in cut.supervisions if s.speaker), None) or cut.id
        utterances.append(EvalUtterance(str(cut.id), speaker, wav, phones))
    return EvalCorpus(utterances, skipped)


def _abx_or_none(items: list, frames: Mapping[str, np.ndarray], mode: str, distance: str, config: AbxConfig) -> float | None:
    try:
        return abx_error(items, frames, mode, distance, config).error  # type: ignore[arg-type]
    except ValueError:
        return None


def _abx_pair(
    corpus: EvalCorpus, frames: Mapping[str, np.ndarray], rate: float, distance: str, config: AbxConfig
) -> tuple[float | None, float | None]:
    """(within, across) ABX error of per-utterance ``frames`` at ``rate`` Hz."""
    items = abx_items(
        {u.id: u.phones for u in corpus.utterances}, {u.id: u.speaker for u in corpus.utterances}, rate,
        {u.id: len(frames[u.id]) for u in corpus.utterances},
    )
    return _abx_or_none(items, frames, "within", distance, config), _abx_or_none(items, frames, "across", distance, config)


def score_representation(
    corpus: EvalCorpus,
    units: Mapping[str, np.ndarray],
    unit_rate: float,
    features: Mapping[str, np.ndarray] | None = None,
    feature_rate: float | None = None,
    abx: AbxConfig | None = None,
) -> TokenizerReport:
    """Score frame-level ``units`` (per utterance ``[T]`` at ``unit_rate`` Hz).

    Optional ``features`` (per utterance ``[T', D]`` at ``feature_rate`` Hz) add the feature ABX.
    """
    abx = abx or AbxConfig()
    if not corpus.utterances:
        raise ConfigError(f"no usable utterances to evaluate ({len(corpus.skipped)} skipped)")
    labels: list[str] = []
    for u in corpus.utterances:
        labels += frame_labels(u.phones, unit_rate, len(units[u.id]))
    scores = phone_unit_scores(labels, np.concatenate([units[u.id] for u in corpus.utterances]))
    seconds = sum(u.seconds for u in corpus.utterances)
    deduplicated = sum(len(Tokens(units[u.id], unit_rate).deduplicated()) for u in corpus.utterances)
    unit_within, unit_across = _abx_pair(corpus, units, unit_rate, "hamming", abx)
    feature_within = feature_across = None
    if features is not None and feature_rate is not None:
        feature_within, feature_across = _abx_pair(corpus, features, feature_rate, "angular", abx)
    return TokenizerReport(
        utterances=len(corpus.utterances), skipped=len(corpus.skipped), seconds=seconds, frame_rate=unit_rate,
        units_per_second=deduplicated / seconds, pnmi=scores.pnmi, phone_purity=scores.phone_purity,
        cluster_purity=scores.cluster_purity, abx_features_within=feature_within, abx_features_across=feature_across,
        abx_units_within=unit_within, abx_units_across=unit_across,
    )


def feature_rate(tokenizer: Any) -> float:
    """Frame rate (Hz) of ``tokenizer.features``: its extractor's rate where it has one, else its token rate."""
    extractor = getattr(tokenizer, "extractor", None)
    return float(extractor.frame_rate) if extractor is not None else float(tokenizer.frame_rate)


def tokenizer_frames(
    tokenizer: Any, corpus: EvalCorpus, progress: Callable | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
    """Per utterance: frame units ``[T]`` (``frame_units``, else expanded ``encode`` output) and features ``[T', D]`` (or ``None``)."""
    units: dict[str, np.ndarray] = {}
    features: dict[str, np.ndarray] | None = {} if hasattr(tokenizer, "features") else None
    for u in progress(corpus.utterances) if progress else corpus.utterances:
        if hasattr(tokenizer, "frame_units"):
            tokens = tokenizer.frame_units([u.wav], EVAL_SAMPLE_RATE)[0]
        else:
            tokens = tokenizer.encode(u.wav, EVAL_SAMPLE_RATE)[0].expanded()
        units[u.id] = tokens.ids[0]
        if features is not None:
            features[u.id] = np.asarray(tokenizer.features([u.wav], EVAL_SAMPLE_RATE)[0], dtype=np.float32)
    return units, features


def evaluate_tokenizer(tokenizer: Any, corpus: EvalCorpus, abx: AbxConfig | None = None) -> TokenizerReport:
    """All scores of a :class:`~spokenlm.tokenizers.base.SpeechTokenizer` on ``corpus``."""
    from rich.progress import track

    units, features = tokenizer_frames(tokenizer, corpus, lambda xs: track(xs, description="tokenizing", transient=True))
    return score_representation(corpus, units, float(tokenizer.frame_rate), features, feature_rate(tokenizer), abx)
