"""Adapters to published codecs in Hugging Face format — EnCodec, DAC and Mimi — as a SpeechTokenizer ("hf-codec").

A user who has downloaded ``facebook/encodec_24khz``, ``descript/dac_16khz`` or
``kyutai/mimi`` (a ``transformers`` folder: ``config.json`` + weights) opens it with
:meth:`HFCodecTokenizer.from_hf_folder`; nothing is fetched from a hub. Tokens are
the RVQ codes, ``ids [K, T]`` at the codec's frame rate (EnCodec 24 kHz: 75 Hz,
DAC 16 kHz: 50 Hz, Mimi: 12.5 Hz, stream 0 being Mimi's semantic codebook).
Every family quantizes residually, so the first ``k`` codes of a full encoding are
the codes of a ``k``-codebook encoding: :meth:`HFCodecTokenizer.with_num_codebooks`
lowers the bitrate without re-encoding differently. A saved tokenizer folder holds
our ``config.json`` and the model's own ``save_pretrained`` output in ``model/``;
``load_tokenizer`` (and so ``--tokenizer`` on the CLI) also opens the downloaded folder itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spokenlm.atomic import atomic_directory, atomic_write_json
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer
from spokenlm.encoders.hf_models import HF_MODEL_DIR, load_local_model
from spokenlm.tokens import Tokens

SEMANTIC_CODEBOOKS = {"encodec": 0, "dac": 0, "mimi": 1}  # Mimi's first codebook is distilled from WavLM
FAMILIES = tuple(SEMANTIC_CODEBOOKS)


def _encode(model: Any, wav: torch.Tensor) -> torch.Tensor:
    """All codebooks' codes ``[K, T]`` of one waveform ``[1, 1, samples]``."""
    family = model.config.model_type
    if family == "encodec":
        bandwidth = max(model.config.target_bandwidths)
        return model.encode(wav, bandwidth=bandwidth, return_dict=True).audio_codes[0, 0]  # [chunks=1, B, K, T]
    return model.encode(wav, return_dict=True).audio_codes[0]  # dac, mimi: [B, K, T]


def _decode(model: Any, codes: torch.Tensor) -> torch.Tensor:
    """Waveform ``[samples]`` of codes ``[1, k, T]``."""
    family = model.config.model_type
    if family == "encodec":
        return model.decode(codes[None], [None], return_dict=True).audio_values.reshape(-1)
    if family == "dac":
        return model.decode(audio_codes=codes, return_dict=True).audio_values.reshape(-1)
    return model.decode(codes, return_dict=True).audio_values.reshape(-1)


def _num_codebooks(model: Any) -> int:
    config = model.config
    if config.model_type == "encodec":
        return int(model.quantizer.get_num_quantizers_for_bandwidth(max(config.target_bandwidths)))
    if config.model_type == "dac":
        return int(config.n_codebooks)
    return int(config.num_quantizers)


def _frame_rate(config: Any) -> float:
    if config.model_type == "encodec":
        return config.sampling_rate / math.prod(config.upsampling_ratios)
    if config.model_type == "dac":
        return config.sampling_rate / config.hop_length
    return float(config.frame_rate)


@TOKENIZERS.register("hf-codec")
class HFCodecTokenizer(SpeechTokenizer):
    """A ``transformers`` EnCodec / DAC / Mimi model behind the tokenizer contract.

    Args:
        model: ``EncodecModel``, ``DacModel`` or ``MimiModel`` (mono, not chunked).
        name: stored in every ``Tokens``.
        num_codebooks: streams emitted by :meth:`encode` (default all the model has).
    """

    def __init__(self, model: Any, name: str = "hf-codec", num_codebooks: int | None = None) -> None:
        config = model.config
        if config.model_type not in FAMILIES:
            raise SpokenLMError(f"model_type {config.model_type!r} is not a supported codec; supported: {', '.join(FAMILIES)}")
        if config.model_type == "encodec" and (config.audio_channels != 1 or config.chunk_length is not None or config.normalize):
            raise SpokenLMError("only mono, unchunked, unnormalized EnCodec models (e.g. encodec_24khz) are speech tokenizers here")
        self.model = model.eval()
        self.name = name
        self.family = config.model_type
        self.semantic_codebooks = SEMANTIC_CODEBOOKS[self.family]
        self.sample_rate = int(config.sampling_rate)
        self.frame_rate = _frame_rate(config)
        self.vocab_size = int(config.codebook_size)
        self.max_codebooks = _num_codebooks(model)
        self.num_streams = self.max_codebooks if num_codebooks is None else num_codebooks
        if not 1 <= self.num_streams <= self.max_codebooks:
            raise SpokenLMError(f"num_codebooks must be in 1..{self.max_codebooks}, got {self.num_streams}")

    @classmethod
    def from_hf_folder(cls, directory: str | Path, name: str | None = None, num_codebooks: int | None = None) -> HFCodecTokenizer:
        """Open a local ``transformers`` codec folder (as downloaded once by the user)."""
        model = load_local_model(directory)
        return cls(model, name or model.config.model_type, num_codebooks)

    @property
    def bitrate(self) -> float:
        """Bits per second of the emitted streams."""
        return self.num_streams * math.log2(self.vocab_size) * self.frame_rate

    def with_num_codebooks(self, num_codebooks: int) -> HFCodecTokenizer:
        """The same model emitting only the first ``num_codebooks`` streams (shares weights)."""
        return HFCodecTokenizer(self.model, self.name, num_codebooks)

    @torch.no_grad()
    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        device = next(self.model.parameters()).device
        out = []
        for wav in wavs:  # one at a time: the codecs' padding would otherwise change codes near the end
            codes = _encode(self.model, torch.from_numpy(wav).to(device)[None, None])
            out.append(Tokens(codes[: self.num_streams].cpu().numpy(), self.frame_rate, self.name))
        return out

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> np.ndarray:
        """Waveform ``[samples]`` at :attr:`sample_rate` from ``ids [k, T]`` (any k ≤ the model's codebooks)."""
        ids = tokens.expanded().ids
        if not 1 <= ids.shape[0] <= self.max_codebooks:
            raise SpokenLMError(f"{self.name}: tokens have {ids.shape[0]} streams, the codec has 1..{self.max_codebooks}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise SpokenLMError(f"{self.name}: token ids must lie in 0..{self.vocab_size - 1}")
        codes = torch.from_numpy(np.ascontiguousarray(ids)).long().to(next(self.model.parameters()).device)[None]
        return _decode(self.model, codes).float().cpu().numpy()

    def save_pretrained(self, directory: str | Path) -> Path:
        with atomic_directory(directory) as tmp:
            self.model.save_pretrained(str(tmp / HF_MODEL_DIR))
            atomic_write_json(tmp / "config.json", {"type": "hf-codec", "name": self.name, "num_codebooks": self.num_streams})
        return Path(directory)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> HFCodecTokenizer:
        """Open our saved folder, or a ``transformers`` codec folder itself (all codebooks, named after the family)."""
        directory = Path(directory)
        if not (directory / HF_MODEL_DIR).is_dir():
            return cls.from_hf_folder(directory)
        config = json.loads((directory / "config.json").read_text())
        return cls(load_local_model(directory / HF_MODEL_DIR), config["name"], config["num_codebooks"])
