"""``CodecTokenizer`` ("codec") and ``MixedTokenizer`` ("mixed"): the codec behind the SpeechTokenizer contract.

Tokens are the RVQ codes, ``ids [K, T]`` at ``sample_rate / hop`` Hz; ``decode``
turns any number of leading codebooks back into a waveform. Both tokenizers
encode and decode offline, or frame by frame inside ``streaming(batch_size)``
(:meth:`CodecTokenizer.encode_step`, :meth:`CodecTokenizer.decode_step`; each batch
row an independent stream), or by chunks of one stream (:meth:`CodecTokenizer.stream_encode`,
:meth:`CodecTokenizer.stream_decode`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.checkpoint import load_state, save_module
from spokenlm.config import from_dict, to_dict
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer
from spokenlm.tokenizers.codec.config import CodecConfig
from spokenlm.tokenizers.codec.model import CodecModel
from spokenlm.tokens import Tokens


@TOKENIZERS.register("codec")
class CodecTokenizer(SpeechTokenizer):
    """Neural codec tokenizer: waveform ↔ ``Tokens`` with K codebook streams.

    Args:
        model: a trained :class:`CodecModel`.
        name: stored in every ``Tokens``.
        num_codebooks: streams emitted by :meth:`encode` (default all K); fewer means a lower bitrate.
    """

    type_name = "codec"
    semantic_codebooks = 0

    def __init__(self, model: CodecModel, name: str = "codec", num_codebooks: int | None = None) -> None:
        self.model = model.eval()
        self.config: CodecConfig = model.config
        self.name = name
        self.sample_rate = self.config.sample_rate
        self.frame_rate = self.config.frame_rate
        self.vocab_size = self.config.codebook_size
        self.num_streams = self.config.num_codebooks if num_codebooks is None else num_codebooks
        if not 1 <= self.num_streams <= self.config.num_codebooks:
            raise SpokenLMError(f"num_codebooks must be in 1..{self.config.num_codebooks}, got {self.num_streams}")

    @property
    def hop_length(self) -> int:
        """Samples per token frame."""
        return self.config.hop_length

    @property
    def bitrate(self) -> float:
        """Bits per second of the emitted streams."""
        return self.config.bitrate(self.num_streams)

    def with_num_codebooks(self, num_codebooks: int) -> CodecTokenizer:
        """The same model emitting only the first ``num_codebooks`` streams (shares weights)."""
        return type(self)(self.model, self.name, num_codebooks)

    @torch.no_grad()
    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        hop = self.hop_length
        frames = [-(-len(w) // hop) for w in wavs]
        batch = torch.zeros(len(wavs), 1, max(frames, default=0) * hop)
        for i, wav in enumerate(wavs):
            batch[i, 0, : len(wav)] = torch.from_numpy(wav)
        device = next(self.model.parameters()).device
        codes = self.model.encode(batch.to(device), self.num_streams).cpu().numpy()
        return [Tokens(codes[i, :, : frames[i]], self.frame_rate, self.name) for i in range(len(wavs))]

    def _codes(self, tokens: Tokens) -> torch.Tensor:
        tokens = tokens.expanded()
        if tokens.num_streams > self.config.num_codebooks:
            raise SpokenLMError(f"{self.name}: tokens have {tokens.num_streams} streams, the codec has {self.config.num_codebooks} codebooks")
        return self._device_ids(torch.from_numpy(tokens.ids)[None])

    def _device_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """Codes ``[B, k, T]`` on the model's device, checked to lie in the codebooks."""
        ids = torch.as_tensor(ids, dtype=torch.long, device=next(self.model.parameters()).device)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size):
            raise SpokenLMError(f"{self.name}: token ids must lie in 0..{self.vocab_size - 1}")
        return ids

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> np.ndarray:
        """Waveform ``[T * hop]`` at :attr:`sample_rate` from ``tokens`` (``ids [k, T]``, any k ≤ K leading codebooks)."""
        return self.model.decode(self._codes(tokens))[0, 0].cpu().numpy()

    def streaming(self, batch_size: int = 1) -> contextlib.AbstractContextManager:
        """Frame-by-frame encoding and decoding of ``batch_size`` independent streams (the codec is causal)."""
        return self.model.streaming(batch_size)

    @torch.no_grad()
    def encode_step(self, wav: torch.Tensor) -> torch.Tensor:
        """Inside :meth:`streaming`: samples ``[B, n · hop]`` → codes ``[B, k, n]`` of the frames they complete."""
        device = next(self.model.parameters()).device
        return self.model.encode(torch.as_tensor(wav, dtype=torch.float32, device=device)[:, None], self.num_streams)

    @torch.no_grad()
    def decode_step(self, ids: torch.Tensor) -> torch.Tensor:
        """Inside :meth:`streaming`: codes ``[B, k, n]`` (any k ≤ K leading codebooks) → samples ``[B, n · hop]``."""
        return self.model.decode(self._device_ids(ids))[:, 0]

    def stream_encode(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Encode successive waveform chunks ``[samples]`` (at :attr:`sample_rate`); yields the ids ``[k, t]`` ready after each.

        Concatenating the yields gives the offline codes of the whole signal's complete frames.
        """
        with self.streaming(1):
            for chunk in chunks:
                yield self.encode_step(torch.from_numpy(np.asarray(chunk, dtype=np.float32))[None])[0].cpu().numpy()

    def stream_decode(self, id_chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Decode successive id chunks ``[k, t]``; yields ``[t * hop]`` samples for each, equal to offline decoding."""
        with self.streaming(1):
            for ids in id_chunks:
                yield self.decode_step(torch.from_numpy(np.asarray(ids))[None])[0].cpu().numpy()

    def _extra_config(self) -> dict[str, Any]:
        return {}

    def save_pretrained(self, directory: str | Path) -> Path:
        config = {"type": self.type_name, "name": self.name, "num_codebooks": self.num_streams, "model": to_dict(self.config), **self._extra_config()}
        return save_module(directory, self.model, config, replace=False)

    @classmethod
    def _load(cls, directory: str | Path) -> tuple[dict[str, Any], CodecModel]:
        config, state = load_state(directory)
        if config.get("type") != cls.type_name:
            raise SpokenLMError(f"{directory}: a {config.get('type')!r} tokenizer, not {cls.type_name!r}")
        model = CodecModel(from_dict(CodecConfig, config["model"]))
        model.load_state_dict(state)
        return config, model

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> CodecTokenizer:
        config, model = cls._load(directory)
        return cls(model, config["name"], config["num_codebooks"])


@TOKENIZERS.register("mixed")
class MixedTokenizer(CodecTokenizer):
    """A codec whose first codebook was distilled from a semantic teacher (SpeechTokenizer/Mimi-style).

    Stream 0 carries content; :meth:`semantic_tokens` returns it alone, streams 1.. carry acoustics.

    Args:
        teacher: the extractor spec the first level was distilled from (kept for provenance).
    """

    type_name = "mixed"
    semantic_codebooks = 1

    def __init__(self, model: CodecModel, name: str = "mixed", num_codebooks: int | None = None, teacher: dict[str, Any] | None = None) -> None:
        if model.config.semantic_dim <= 0:
            raise SpokenLMError("a mixed tokenizer needs a model with semantic_dim > 0")
        super().__init__(model, name, num_codebooks)
        self.teacher = dict(teacher or {})

    def with_num_codebooks(self, num_codebooks: int) -> MixedTokenizer:
        return MixedTokenizer(self.model, self.name, num_codebooks, self.teacher)

    def semantic_tokens(self, wav: np.ndarray, sr: int) -> Tokens:
        """The first (semantic) stream alone, ``ids [1, T]``, of one waveform ``[samples]`` at ``sr`` Hz."""
        return self.with_num_codebooks(1).encode(wav, sr)[0]

    def _extra_config(self) -> dict[str, Any]:
        return {"teacher": self.teacher}

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> MixedTokenizer:
        config, model = cls._load(directory)
        return cls(model, config["name"], config["num_codebooks"], config.get("teacher"))
