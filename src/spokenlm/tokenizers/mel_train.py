"""The ``mel`` tokenizer trainer: log-mel frames of a recipe's audio → a fitted :class:`~spokenlm.tokenizers.mel.MelTokenizer`.

At most ``max_frames`` frames are sampled; fitting takes about a minute on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from spokenlm.config import load_config, save_config
from spokenlm.errors import SpokenLMError
from spokenlm.audio.loader import AudioDataConfig, load_training_audio
from spokenlm.tokenizers.mel import MelQuantizer, MelTokenizer, mel_frames
from spokenlm.tokenizers.mel_quantizers import ChannelBinQuantizer, ResidualKMeansQuantizer
from spokenlm.audio.reporting import report_skipped
from spokenlm.audio.mel import HIFIGAN_MEL

RECIPE_NAME = "recipe.yaml"
MEL_QUANTIZERS = (ChannelBinQuantizer.kind, ResidualKMeansQuantizer.kind)


@dataclass
class MelTokenizerRecipe:
    """``type: mel`` recipe.

    Attributes:
        type: always ``"mel"``.
        name: tokenizer name stored in its tokens.
        data: training audio (only its log-mel frames are used).
        quantizer: ``"bins"`` (dMel, per-channel bins) or ``"rvq"`` (residual k-means of whole frames).
        bins: levels per mel channel (``bins``).
        percentile: ``bins`` range: channel percentiles ``percentile`` and ``100 - percentile``.
        codebooks: number of residual codebooks (``rvq``).
        codebook_size: centroids per codebook (``rvq``).
        max_frames: frames sampled (seeded, uniformly) from the training audio.
        mel_vocoder: ``"hifigan-universal"`` or ``"griffin-lim"``.
        seed: sampling and k-means seed.
    """

    type: str = "mel"
    name: str = "mel-rvq8x1024"
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    quantizer: str = "rvq"
    bins: int = 16
    percentile: float = 0.5
    codebooks: int = 8
    codebook_size: int = 1024
    max_frames: int = 200_000
    mel_vocoder: str = "hifigan-universal"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.quantizer not in MEL_QUANTIZERS:
            raise SpokenLMError(f"unknown mel quantizer {self.quantizer!r}; known: {', '.join(MEL_QUANTIZERS)}")


def fit_mel_tokenizer(recipe: MelTokenizerRecipe, wavs: list[np.ndarray]) -> MelTokenizer:
    """Fit the recipe's quantizer on log-mel frames of ``wavs`` (each ``[samples]`` at 22.05 kHz)."""
    frames = torch.cat([mel_frames(w) for w in wavs]) if wavs else torch.zeros(0, HIFIGAN_MEL.n_mels)
    if frames.shape[0] > recipe.max_frames:
        keep = np.sort(np.random.default_rng(recipe.seed).choice(frames.shape[0], recipe.max_frames, replace=False))
        frames = frames[torch.from_numpy(keep)]
    if recipe.quantizer == ChannelBinQuantizer.kind:
        quantizer: MelQuantizer = ChannelBinQuantizer.fit(frames, recipe.bins, recipe.percentile)
    else:
        quantizer = ResidualKMeansQuantizer.fit(frames, recipe.codebooks, recipe.codebook_size, recipe.seed)
    return MelTokenizer(quantizer, recipe.name, recipe.mel_vocoder)


def train_mel_tokenizer(config_path: str | Path | None, overrides: list[str] | tuple[str, ...], out_dir: str | Path) -> MelTokenizer:
    """Load the recipe's audio at 22.05 kHz, fit the quantizer, save the tokenizer and ``recipe.yaml`` into ``out_dir``."""
    recipe = load_config(MelTokenizerRecipe, config_path, list(overrides))
    wavs, skipped = load_training_audio(recipe.data, HIFIGAN_MEL.sample_rate)
    report_skipped(skipped)
    tokenizer = fit_mel_tokenizer(recipe, wavs)
    tokenizer.save_pretrained(out_dir)
    save_config(recipe, out_dir, RECIPE_NAME)
    return tokenizer
