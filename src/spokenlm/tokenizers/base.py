"""The tokenizer contract (DESIGN.md §3) and the registries that pick tokenizers by name.

A tokenizer turns mono waveforms into :class:`~spokenlm.tokens.Tokens` and saves
itself as an HF-style folder (``config.json`` with a ``"type"`` key naming its
class in :data:`TOKENIZERS`, plus weight files). :func:`load_tokenizer` opens any
such folder without knowing its type in advance. Making one from a recipe is
``spokenlm train-tokenizer`` (:mod:`spokenlm.train.tokenizer_recipes`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spokenlm.audio.io import resample
from spokenlm.errors import SpokenLMError
from spokenlm.registry import Registry
from spokenlm.tokens import Tokens

TOKENIZERS: Registry[type[SpeechTokenizer]] = Registry("tokenizer type")


class SpeechTokenizer(ABC):
    """Waveform → tokens, batched; optionally tokens → waveform.

    Attributes (set by subclasses):
        name: a descriptive name, e.g. ``"hubert-tiny-km100"``; stored in every ``Tokens``.
        sample_rate: the rate (Hz) the model works at; inputs at other rates are resampled.
        frame_rate: tokens per second (Hz) before deduplication.
        vocab_size: number of ids per stream.
        num_streams: K, parallel streams (1 for semantic units, codebooks for codecs).
    """

    name: str
    sample_rate: int
    frame_rate: float
    vocab_size: int
    num_streams: int = 1

    def encode(self, wavs: np.ndarray | Sequence[np.ndarray], sr: int) -> list[Tokens]:
        """Tokenize one waveform ``[samples]`` or a batch (list of ``[samples]`` or ``[B, samples]``) at ``sr`` Hz.

        Returns one ``Tokens`` (``ids [K, T]``) per input, in order. Empty or non-finite
        waveforms raise :class:`SpokenLMError` naming the batch position.
        """
        if isinstance(wavs, np.ndarray) and wavs.ndim == 1:
            wavs = [wavs]
        batch = [np.asarray(w, dtype=np.float32) for w in wavs]
        for index, wav in enumerate(batch):
            if wav.size == 0 or not np.isfinite(wav).all():
                problem = "is empty" if wav.size == 0 else "has NaN or infinite samples"
                raise SpokenLMError(f"{self.name}: waveform {index} of the batch {problem}")
        batch = [resample(w, sr, self.sample_rate) for w in batch]
        return self._encode_batch(batch)

    @abstractmethod
    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        """Tokenize mono float32 waveforms ``[samples]`` already at ``self.sample_rate``."""

    def decode(self, tokens: Tokens) -> np.ndarray:
        """Tokens → waveform ``[samples]`` at ``self.sample_rate``; only tokenizers with a decoder have it."""
        raise SpokenLMError(f"tokenizer {self.name!r} has no decoder; use a vocoder (spokenlm.vocoders)")

    @property
    def has_decoder(self) -> bool:
        """Whether :meth:`decode` turns this tokenizer's tokens back into audio (codecs, mel tokenizers)."""
        return type(self).decode is not SpeechTokenizer.decode

    @abstractmethod
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` (with ``"type"``) and weights into ``directory`` atomically."""

    @classmethod
    @abstractmethod
    def from_pretrained(cls, directory: str | Path) -> SpeechTokenizer:
        """Load a tokenizer written by :meth:`save_pretrained`."""


def load_tokenizer(directory: str | Path) -> SpeechTokenizer:
    """Open any saved tokenizer folder; its ``config.json`` ``"type"`` picks the class.

    A ``transformers`` folder (``"model_type"``, no ``"type"``) opens as an EnCodec / DAC / Mimi codec tokenizer.
    """
    directory = Path(directory)
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise SpokenLMError(f"{directory}: not a tokenizer folder (no config.json)")
    config = json.loads(config_path.read_text())
    kind = config.get("type", "hf-codec" if "model_type" in config else None)  # a transformers codec folder as downloaded
    if kind is None:
        raise SpokenLMError(f"{config_path}: no 'type' key")
    import_builtin_tokenizers()
    return TOKENIZERS.get(kind).from_pretrained(directory)


def import_builtin_tokenizers() -> None:
    """Import the modules that register the built-in tokenizer types (used by :func:`load_tokenizer`)."""
    import importlib
    import pkgutil

    import spokenlm.tokenizers as package

    for module in pkgutil.walk_packages(package.__path__, prefix="spokenlm.tokenizers."):
        importlib.import_module(module.name)
