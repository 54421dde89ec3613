"""The trainable network of every vocoder kind, and its configuration.

The kinds (``VocoderModelConfig.kind``) are registered in :mod:`spokenlm.vocoders.kinds`:
direct waveform generators (``unit-istft``, ``unit-hifigan``) and the input-enhanced ``unit-mel``
(units → log-mel → a pretrained mel vocoder of :mod:`spokenlm.vocoders.mel_vocoders`).

Every kind carries a :class:`DurationPredictor` for deduplicated token streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.nn.streaming import StreamingModule, StreamingState
from spokenlm.audio.mel import HIFIGAN_MEL
from spokenlm.vocoders.conditioning import ConditioningConfig, UnitConditioner
from spokenlm.vocoders.duration import DurationConfig, DurationPredictor
from spokenlm.vocoders.hifigan import HiFiGANConfig
from spokenlm.vocoders.istft import ISTFTConfig
from spokenlm.vocoders.kinds import VOCODER_KINDS, VocoderKind
from spokenlm.vocoders.mel_vocoders import MEL_VOCODERS
from spokenlm.vocoders.unit2mel import UnitToMel, UnitToMelConfig


@dataclass
class VocoderModelConfig:
    """Everything needed to rebuild a vocoder (stored as its ``config.json``).

    Attributes:
        kind: a name of :data:`~spokenlm.vocoders.kinds.VOCODER_KINDS`.
        sample_rate: output rate, Hz (``unit-mel``: fixed by the mel vocoder, 22050).
        frame_rate: token rate, Hz, before deduplication (must match the tokenizer).
        tokenizer: name of the tokenizer whose tokens this vocoder reads.
        conditioning: units / speaker / F0 inputs.
        istft / hifigan / unit_to_mel: the network of the chosen kind (others are ignored).
        mel_vocoder: kinds that output mels only: a name of :data:`~spokenlm.vocoders.mel_vocoders.MEL_VOCODERS`.
        duration: the duration predictor.
        speakers: names of the rows of the speaker table (``conditioning.num_speakers``).
        lookahead_frames: direct kinds: frames of coming units a (causal) generator reads before it voices a frame.
            Its output runs that many frames late: offline the units are padded with the last one and the first
            ``lookahead_frames · hop`` samples dropped; streaming drops them too, and a reply ends with
            :meth:`~spokenlm.vocoders.UnitVocoder.decode_flush` (``lookahead_frames / frame_rate`` s of latency).
    """

    kind: str = "unit-istft"
    sample_rate: int = 16000
    frame_rate: float = 50.0
    tokenizer: str = ""
    conditioning: ConditioningConfig = field(default_factory=ConditioningConfig)
    istft: ISTFTConfig = field(default_factory=ISTFTConfig)
    hifigan: HiFiGANConfig = field(default_factory=HiFiGANConfig)
    unit_to_mel: UnitToMelConfig = field(default_factory=UnitToMelConfig)
    mel_vocoder: str = "hifigan-universal"
    duration: DurationConfig = field(default_factory=DurationConfig)
    speakers: list[str] = field(default_factory=list)
    lookahead_frames: int = 0

    @property
    def hop_length(self) -> int:
        """Output samples per token frame (direct kinds)."""
        return int(round(self.sample_rate / self.frame_rate))

    @property
    def kind_spec(self) -> VocoderKind:
        """The registered :class:`~spokenlm.vocoders.kinds.VocoderKind` of :attr:`kind` (an error lists the known kinds)."""
        if self.kind not in VOCODER_KINDS:
            raise ConfigError(f"model.kind {self.kind!r} is not one of {VOCODER_KINDS.names()}")
        return VOCODER_KINDS.get(self.kind)

    def validate(self) -> VocoderModelConfig:
        """Raise :class:`ConfigError` if the parts do not fit together; return self."""
        kind = self.kind_spec
        if kind.outputs_mel:
            if self.lookahead_frames:
                raise ConfigError(f"model.lookahead_frames applies to direct kinds, not {self.kind}")
            if self.mel_vocoder not in MEL_VOCODERS:
                raise ConfigError(f"model.mel_vocoder {self.mel_vocoder!r} is not one of {MEL_VOCODERS.names()}")
            if self.sample_rate != HIFIGAN_MEL.sample_rate:
                raise ConfigError(f"{self.kind} synthesizes at {HIFIGAN_MEL.sample_rate} Hz; set model.sample_rate={HIFIGAN_MEL.sample_rate}")
            return self
        if abs(self.sample_rate / self.frame_rate - self.hop_length) > 1e-6:
            raise ConfigError(f"sample_rate / frame_rate = {self.sample_rate / self.frame_rate} must be a whole number of samples")
        generator_hop = kind.generator_hop(self)
        if generator_hop != self.hop_length:
            raise ConfigError(f"{self.kind} generator hop {generator_hop} != sample_rate / frame_rate = {self.hop_length}")
        if self.lookahead_frames < 0:
            raise ConfigError(f"model.lookahead_frames must be >= 0, got {self.lookahead_frames}")
        if self.conditioning.num_speakers and len(self.speakers) not in (0, self.conditioning.num_speakers):
            raise ConfigError("model.speakers must name every row of the speaker table")
        return self

    @property
    def streamable(self) -> bool:
        """Whether chunked synthesis equals offline synthesis (causal direct generators)."""
        return self.kind_spec.streamable(self)


@dataclass
class DelayState(StreamingState):
    """Samples still to drop in each row ``[B]``: what a look-ahead generator voices before the stream's first frame."""

    to_drop: torch.Tensor


def _pad_with_last(x: torch.Tensor, frames: int) -> torch.Tensor:
    """``x [..., T]`` followed by ``frames`` copies of its last frame."""
    return torch.cat([x, x[..., -1:].expand(*x.shape[:-1], frames)], dim=-1)


class DirectUnitGenerator(StreamingModule[DelayState]):
    """``forward(ids [B, K, T], speaker=None, f0_bins=None) -> wav [B, 1, T * hop]``; with ``lookahead_frames`` L, output
    frame ``t`` is voiced from units up to ``t + L`` (streaming: each call's output is L frames late)."""

    def __init__(self, config: VocoderModelConfig) -> None:
        super().__init__()
        self.conditioner = UnitConditioner(config.conditioning)
        self.generator: nn.Module = config.kind_spec.generator(config)
        self.lookahead = config.lookahead_frames
        self.delay = config.lookahead_frames * config.hop_length  # samples

    def _init_state(self, batch_size: int) -> DelayState | None:
        return DelayState(torch.full((batch_size,), self.delay, dtype=torch.long)) if self.delay else None

    def forward(self, ids: torch.Tensor, speaker: torch.Tensor | None = None, f0_bins: torch.Tensor | None = None) -> torch.Tensor:
        if self.delay and not self.is_streaming:
            ids = _pad_with_last(ids, self.lookahead)
            f0_bins = None if f0_bins is None else _pad_with_last(f0_bins, self.lookahead)
        wav = self.generator(self.conditioner(ids, speaker, f0_bins))
        if not self.delay:
            return wav
        if not self.is_streaming:
            return wav[..., self.delay :]
        drop = self._state.to_drop
        if not bool((drop == drop[0]).all()):
            raise SpokenLMError("a look-ahead vocoder streams its rows in step: reset them together")
        skip = min(int(drop[0]), wav.shape[-1])
        self._commit(DelayState(drop - skip))
        return wav[..., skip:]


class VocoderNet(StreamingModule):
    """The trainable parts: ``acoustic`` (a direct generator or a unit→mel model) and ``duration``."""

    def __init__(self, config: VocoderModelConfig) -> None:
        super().__init__()
        config.validate()
        c = config.conditioning
        self.acoustic: nn.Module = UnitToMel(c, config.unit_to_mel) if config.kind_spec.outputs_mel else DirectUnitGenerator(config)
        self.duration = DurationPredictor(c.vocab_size, c.num_streams, config.duration)

    def forward(
        self, ids: torch.Tensor, speaker: torch.Tensor | None, f0_bins: torch.Tensor | None,
        dedup_ids: torch.Tensor, durations: torch.Tensor, dedup_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training forward: (``acoustic(ids [B, K, T], speaker, f0_bins)`` — waveform ``[B, 1, T·hop]`` or log-mel ``[B, 80, T]`` —,
        the duration loss of deduplicated ``dedup_ids [B, K, N]`` with ``durations``/``dedup_mask`` ``[B, N]``, in fp32)."""
        with torch.autocast(ids.device.type, enabled=False):
            duration = self.duration.loss(dedup_ids, durations, dedup_mask)
        return self.acoustic(ids, speaker, f0_bins), duration
