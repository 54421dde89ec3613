"""The tokenizer contract (DESIGN.md §3) and the registries that pick tokenizers by name.

A tokenizer turns mono waveforms into :class:`~spokenlm.tokens.Tokens` and saves
itself as an HF-style folder (``config.json`` with a ``"type"`` key naming its
class in :data:`TOKENIZERS`, plus weight files). :func:`load_tokenizer` opens any
such folder without knowing its type in advance. Making one from a recipe is
``spokenlm train-tokenizer`` (:mod:`spokenlm.train.tokenizer_recipes`).
"""

from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from spokenlm.audio.io import resample
from spokenlm.errors import SpokenLMError
from spokenlm.layouts.spec import StreamSpec, codebook_streams
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
        semantic_codebooks: how many leading streams are semantic (each class declares it: 1 for units and
            phones, 0 for acoustic codecs and mel tokens, 1 for mixed codecs); the rest are acoustic codebooks.
    """

    name: str
    sample_rate: int
    frame_rate: float
    vocab_size: int
    num_streams: int = 1
    semantic_codebooks: int

    @property
    def streams(self) -> tuple[StreamSpec, ...]:
        """The specs of the ``num_streams`` streams :meth:`encode` emits (stream ``k`` is codebook ``k``)."""
        return codebook_streams(self.num_streams, self.vocab_size, self.frame_rate, semantic=self.semantic_codebooks)

    def encode(self, wavs: np.ndarray | Sequence[np.ndarray], sr: int) -> list[Tokens]:
        """Tokenize one waveform ``[samples]`` or a batch (list of ``[samples]`` or ``[B, samples]``) at ``sr`` Hz.

        Returns one ``Tokens`` (``ids [K, T]``, with :attr:`streams`) per input, in order. Empty or non-finite
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
        return [replace(tokens, streams=self.streams) for tokens in self._encode_batch(batch)]

    @abstractmethod
    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        """Tokenize mono float32 waveforms ``[samples]`` already at ``self.sample_rate``."""

    def decode(self, tokens: Tokens) -> np.ndarray:
        """Tokens → waveform ``[samples]`` at ``self.sample_rate``; only tokenizers with a decoder have it."""
        raise SpokenLMError(f"tokenizer {self.name!r} has no decoder; use a vocoder (spokenlm.vocoders)")

    def streaming(self, batch_size: int = 1) -> contextlib.AbstractContextManager:
        """The context in which :meth:`encode_step` / :meth:`decode_step` carry state from call to call,
        ``batch_size`` independent streams (only causal tokenizers have one)."""
        raise SpokenLMError(f"tokenizer {self.name!r} is not causal: it cannot encode or decode frame by frame")

    def encode_step(self, wav: torch.Tensor) -> torch.Tensor:
        """Inside :meth:`streaming`: the next samples ``[B, n · hop]`` at :attr:`sample_rate` → their token ids ``[B, K, n]``
        (a real-time loop passes one frame, ``hop`` samples)."""
        raise SpokenLMError(f"tokenizer {self.name!r} is not causal: it cannot encode frame by frame")

    def decode_step(self, ids: torch.Tensor) -> torch.Tensor:
        """Inside :meth:`streaming`: the next token frames ``[B, K, n]`` → their samples ``[B, n · hop]``."""
        raise SpokenLMError(f"tokenizer {self.name!r} cannot decode frame by frame")

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
