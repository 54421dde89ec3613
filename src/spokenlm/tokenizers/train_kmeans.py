"""The ``kmeans`` tokenizer recipe: any encoder + k-means (+ dedup, + BPE) → a saved ``UnitTokenizer``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spokenlm.config import load_config, save_config
from spokenlm.audio.loader import AudioDataConfig, load_training_audio
from spokenlm.encoders.base import build_encoder
from spokenlm.tokenizers.fitting import fit_unit_tokenizer
from spokenlm.tokenizers.quantizer import KMeansConfig
from spokenlm.audio.reporting import report_skipped
from spokenlm.tokenizers.units import UnitTokenizer

RECIPE_NAME = "recipe.yaml"


@dataclass
class KMeansTokenizerRecipe:
    """``type: kmeans`` recipe.

    Attributes:
        type: always ``"kmeans"``.
        name: tokenizer name stored in its tokens, e.g. ``"mfcc-km100"``.
        data: training audio.
        extractor: extractor spec, e.g. ``{type: mfcc}``, ``{type: hf-ssl, model_dir: DIR, layer: 6}``,
            ``{type: ct2-whisper}``, ``{type: saved, path: DIR/extractor, layer: 3}``.
        kmeans: k-means settings (K is ``kmeans.k``).
        dedup: deduplicate units (durations kept).
        bpe_vocab_size: BPE over units up to this vocabulary (0 = no BPE).
    """

    type: str = "kmeans"
    name: str = "mfcc-km100"
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    extractor: dict[str, Any] = field(default_factory=lambda: {"type": "mfcc"})
    kmeans: KMeansConfig = field(default_factory=KMeansConfig)
    dedup: bool = True
    bpe_vocab_size: int = 0


def train_kmeans_tokenizer(config_path: str | Path | None, overrides: list[str] | tuple[str, ...], out_dir: str | Path) -> UnitTokenizer:
    """Extract features of the recipe's audio, fit k-means, save the tokenizer and ``recipe.yaml`` into ``out_dir``."""
    recipe = load_config(KMeansTokenizerRecipe, config_path, list(overrides))
    extractor = build_encoder(recipe.extractor)
    wavs, skipped = load_training_audio(recipe.data, extractor.sample_rate)
    report_skipped(skipped)
    tokenizer = fit_unit_tokenizer(extractor, wavs, recipe.kmeans, recipe.name, recipe.dedup, recipe.bpe_vocab_size)
    tokenizer.save_pretrained(out_dir)
    save_config(recipe, out_dir, RECIPE_NAME)
    return tokenizer
