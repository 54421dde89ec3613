"""``UnitTokenizer``: feature extractor + k-means (+ deduplication, + BPE) — GSLM/TWIST-style semantic units.

Folder layout written by :meth:`UnitTokenizer.save_pretrained`::

    config.json          {"type": "units", "name", "dedup", "bpe", "sample_rate", "frame_rate", "vocab_size"}
    extractor/           the feature extractor (its own config.json + weights)
    kmeans.safetensors   centroids [K, D]   (+ kmeans.json, the k-means config)
    bpe.json             HF tokenizers BPE over units (only when ``bpe`` is on)

``config.json`` is written last, so a folder with it is complete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from spokenlm.atomic import atomic_write_json
from spokenlm.audio.io import resample
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer
from spokenlm.tokenizers.bpe import UnitBPE
from spokenlm.encoders.base import Encoder, load_encoder
from spokenlm.tokenizers.quantizer import KMeansQuantizer
from spokenlm.tokens import Tokens

EXTRACTOR_DIR = "extractor"


def apply_bpe(tokens: Tokens, bpe: UnitBPE) -> Tokens:
    """Re-tokenize one-stream ``tokens`` with ``bpe``; each BPE token's duration is the frames it covers."""
    units = tokens.ids[0]
    ids, spans = bpe.encode(units)
    frames = tokens.durations if tokens.durations is not None else np.ones(len(units), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(spans)[:-1]]).astype(np.int64)
    durations = np.add.reduceat(frames, starts) if len(ids) else np.zeros(0, dtype=np.int64)
    return Tokens(ids[None, :], tokens.frame_rate, tokens.tokenizer, durations)


@TOKENIZERS.register("units")
class UnitTokenizer(SpeechTokenizer):
    """Semantic units: ``extractor`` features ``[T, D]`` → nearest k-means centroid ids.

    Args:
        extractor: any :class:`Encoder`.
        quantizer: k-means over that extractor's features (same D).
        name: stored in every ``Tokens``.
        dedup: collapse repeated units into one token with a duration (frames at :attr:`frame_rate`).
        bpe: optional BPE over (deduplicated) unit sequences; ids then index BPE tokens.
    """

    num_streams = 1
    semantic_codebooks = 1

    def __init__(
        self,
        extractor: Encoder,
        quantizer: KMeansQuantizer,
        name: str = "units",
        dedup: bool = False,
        bpe: UnitBPE | None = None,
    ) -> None:
        if quantizer.dim != extractor.dim:
            raise SpokenLMError(f"k-means has D={quantizer.dim} but the extractor gives D={extractor.dim}")
        self.extractor = extractor
        self.quantizer = quantizer
        self.name = name
        self.dedup = dedup
        self.bpe = bpe
        self.sample_rate = extractor.sample_rate
        self.frame_rate = extractor.frame_rate / quantizer.config.downsample
        self.vocab_size = bpe.vocab_size if bpe is not None else quantizer.k

    def to(self, device: str | torch.device) -> UnitTokenizer:
        """Run the extractor on ``device``; k-means assignment stays on the CPU."""
        self.extractor.to(device)
        return self

    def features(self, wavs: Sequence[np.ndarray], sr: int) -> list[torch.Tensor]:
        """Extractor features ``[T_i, D]`` at ``extractor.frame_rate`` of mono waveforms at ``sr`` Hz."""
        return self.extractor.extract_batch([resample(np.asarray(w, np.float32), sr, self.sample_rate) for w in wavs])

    def frame_units(self, wavs: Sequence[np.ndarray], sr: int) -> list[Tokens]:
        """Frame-level units (before deduplication and BPE): ``ids [1, T]`` at :attr:`frame_rate` Hz."""
        return self.units_from_features(self.features(wavs, sr))

    def units_from_features(self, features: list[torch.Tensor]) -> list[Tokens]:
        """Frame-level units ``ids [1, T']`` of extractor features ``[T, D]`` (``T' = ceil(T / downsample)``)."""
        ids = self.quantizer.assign_batch(features)
        return [Tokens(i.numpy()[None, :], self.frame_rate, self.name) for i in ids]

    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        out = []
        for tokens in self.units_from_features(self.extractor.extract_batch(wavs)):
            if self.dedup:
                tokens = tokens.deduplicated()
            if self.bpe is not None:
                tokens = apply_bpe(tokens, self.bpe)
            out.append(tokens)
        return out

    def config_dict(self) -> dict:
        return {
            "type": "units",
            "name": self.name,
            "dedup": self.dedup,
            "bpe": self.bpe is not None,
            "sample_rate": self.sample_rate,
            "frame_rate": self.frame_rate,
            "vocab_size": self.vocab_size,
        }

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").unlink(missing_ok=True)
        self.extractor.save_pretrained(directory / EXTRACTOR_DIR)
        self.quantizer.save(directory)
        if self.bpe is not None:
            self.bpe.save(directory)
        atomic_write_json(directory / "config.json", self.config_dict())
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> UnitTokenizer:
        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text())
        extractor = load_encoder(directory / EXTRACTOR_DIR)
        quantizer = KMeansQuantizer.load(directory)
        bpe = UnitBPE.load(directory) if config.get("bpe") else None
        return cls(extractor, quantizer, name=config["name"], dedup=bool(config["dedup"]), bpe=bpe)
