"""The vocoder kinds by name (``VocoderModelConfig.kind``): what network each builds and how it reaches the waveform.

- ``unit-istft``: direct synthesis, units → :class:`~spokenlm.vocoders.istft.ISTFTGenerator` (fast, causal, streamable);
- ``unit-hifigan``: direct synthesis after Polyak et al. 2021, units → :class:`~spokenlm.vocoders.hifigan.HiFiGANGenerator`;
- ``unit-mel``: input-enhanced synthesis, units → :class:`~spokenlm.vocoders.unit2mel.UnitToMel` → a pretrained mel
  vocoder (:mod:`spokenlm.vocoders.mel_vocoders`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from torch import nn

from spokenlm.registry import Registry
from spokenlm.vocoders.hifigan import HiFiGANGenerator
from spokenlm.vocoders.istft import ISTFTGenerator

VocoderModelConfig = Any  # a spokenlm.vocoders.model.VocoderModelConfig (which itself looks its kind up here)


@dataclass(frozen=True)
class VocoderKind:
    """One kind of vocoder.

    Attributes:
        outputs_mel: the network predicts log-mels at the mel rate (a mel vocoder voices them) instead of a waveform.
        generator: for direct kinds, the waveform generator over conditioning features ``[B, D, T]`` → ``[B, 1, T · hop]``.
        generator_hop: output samples per frame of that generator, from the config.
        streamable: whether chunked synthesis equals offline synthesis for this config.
        fit_to_rate: adjust the generator to the config's samples per token frame (before training).
    """

    outputs_mel: bool
    generator: Callable[[VocoderModelConfig], nn.Module] | None = None
    generator_hop: Callable[[VocoderModelConfig], int] | None = None
    streamable: Callable[[VocoderModelConfig], bool] = lambda config: False
    fit_to_rate: Callable[[VocoderModelConfig], None] = lambda config: None


VOCODER_KINDS: Registry[VocoderKind] = Registry("vocoder kind")


def _istft_to_rate(config: VocoderModelConfig) -> None:
    config.istft.hop_length = config.hop_length
    config.istft.n_fft = 4 * config.hop_length


VOCODER_KINDS.register("unit-istft")(VocoderKind(
    outputs_mel=False,
    generator=lambda c: ISTFTGenerator(replace(c.istft, in_channels=c.conditioning.dim)),
    generator_hop=lambda c: c.istft.hop_length,
    streamable=lambda c: c.istft.causal,
    fit_to_rate=_istft_to_rate,
))
VOCODER_KINDS.register("unit-hifigan")(VocoderKind(
    outputs_mel=False,
    generator=lambda c: HiFiGANGenerator(replace(c.hifigan, in_channels=c.conditioning.dim)),
    generator_hop=lambda c: c.hifigan.hop_length,
    streamable=lambda c: c.hifigan.causal,
))
VOCODER_KINDS.register("unit-mel")(VocoderKind(outputs_mel=True))
