"""Fit a :class:`UnitTokenizer` on waveforms: features → k-means (→ BPE over the unit sequences)."""

from __future__ import annotations

import numpy as np
import torch

from spokenlm.tokenizers.bpe import UnitBPE
from spokenlm.encoders.base import Encoder
from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
from spokenlm.tokenizers.units import UnitTokenizer


def extract_all(extractor: Encoder, wavs: list[np.ndarray], description: str = "features") -> list[torch.Tensor]:
    """Features ``[T_i, D]`` of every waveform (at ``extractor.sample_rate``), with a progress bar."""
    from rich.progress import track

    return [extractor.extract(w) for w in track(wavs, description=description, transient=True)]


def fit_unit_tokenizer(
    extractor: Encoder,
    wavs: list[np.ndarray],
    kmeans: KMeansConfig,
    name: str,
    dedup: bool = True,
    bpe_vocab_size: int = 0,
) -> UnitTokenizer:
    """k-means on ``extractor`` features of ``wavs`` (mono, at ``extractor.sample_rate``); BPE when ``bpe_vocab_size > 0``."""
    features = extract_all(extractor, wavs)
    quantizer = KMeansQuantizer.fit(features, kmeans)
    tokenizer = UnitTokenizer(extractor, quantizer, name=name, dedup=dedup)
    if bpe_vocab_size:
        units = tokenizer.units_from_features(features)
        sequences = [(t.deduplicated() if dedup else t).ids[0] for t in units]
        tokenizer = UnitTokenizer(extractor, quantizer, name, dedup, UnitBPE.train(sequences, quantizer.k, bpe_vocab_size))
    return tokenizer
