"""A HuBERT-style encoder: strided conv waveform encoder + transformer, trained by masked cluster prediction.

Shapes: waveforms ``[B, S]`` (samples at ``sample_rate``) → frames ``[B, T, D]``
at ``sample_rate / prod(conv_strides)`` Hz (50 Hz with HuBERT's conv stack).
Hidden state ``0`` is the transformer input (after the convolutional
positional embedding), state ``l`` the output of block ``l``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from spokenlm.nn.transformer import Transformer, TransformerConfig, renamed_blocks_hook


@dataclass
class HubertConfig:
    """Model sizes. Defaults are HuBERT Base; ``recipes/tokenizer-hubert-tiny.yaml`` shrinks them for CPU.

    Attributes:
        sample_rate: input rate, Hz.
        frontend: ``"conv"`` (HuBERT's strided convolutions over the waveform) or ``"mel"``
            (log-mel frames normalised per utterance and mel band, as MelHuBERT; much cheaper to train).
        conv_channels: channels of every conv layer.
        conv_kernels / conv_strides: per conv layer, samples (first) then frames; their stride
            product is the hop of both front-ends.
        mel_bins / mel_window: ``"mel"`` front-end: mel bands and analysis window (samples).
        mel_warp: ``"mel"`` front-end, training only: each utterance's mel axis is stretched by a
            random factor in ``[1 - mel_warp, 1 + mel_warp]`` (vocal-tract-length perturbation), while its
            targets stay those of the unwarped audio — the speaker perturbation of ContentVec; 0 = off.
        dim: transformer width D.
        layers / heads / ffn_dim: transformer depth, attention heads, feed-forward width.
        pos_conv_kernel / pos_conv_groups: convolutional positional embedding.
        dropout: transformer dropout.
        final_dim: size of the projection compared with target embeddings.
        num_targets: clusters of the current iteration's targets.
        mask_prob: share of frames that start a masked span.
        mask_length: frames per masked span.
        logit_temperature: cosine-similarity temperature of the prediction logits.
        layer: hidden state used as features when this model serves as an extractor.
    """

    sample_rate: int = 16000
    frontend: str = "conv"
    conv_channels: int = 512
    conv_kernels: list[int] = field(default_factory=lambda: [10, 3, 3, 3, 3, 2, 2])
    conv_strides: list[int] = field(default_factory=lambda: [5, 2, 2, 2, 2, 2, 2])
    mel_bins: int = 80
    mel_window: int = 400
    mel_warp: float = 0.0
    dim: int = 768
    layers: int = 12
    heads: int = 12
    ffn_dim: int = 3072
    pos_conv_kernel: int = 128
    pos_conv_groups: int = 16
    dropout: float = 0.1
    final_dim: int = 256
    num_targets: int = 100
    mask_prob: float = 0.08
    mask_length: int = 10
    logit_temperature: float = 0.1
    layer: int = 6

    def __post_init__(self) -> None:
        if self.frontend not in ("conv", "mel"):
            raise ValueError(f"frontend must be 'conv' or 'mel', got {self.frontend!r}")

    @property
    def hop_length(self) -> int:
        """Samples per output frame."""
        return math.prod(self.conv_strides)

    @property
    def frontend_dim(self) -> int:
        """Channels of the front-end's frames."""
        return self.conv_channels if self.frontend == "conv" else self.mel_bins


class ConvWaveformEncoder(nn.Module):
    """``[B, S]`` samples → ``[B, T, conv_channels]``; group norm after the first layer (HuBERT Base)."""

    def __init__(self, config: HubertConfig) -> None:
        super().__init__()
        blocks = []
        in_channels = 1
        for i, (kernel, stride) in enumerate(zip(config.conv_kernels, config.conv_strides, strict=True)):
            conv = nn.Conv1d(in_channels, config.conv_channels, kernel, stride=stride, bias=False)
            norm = nn.GroupNorm(config.conv_channels, config.conv_channels) if i == 0 else nn.Identity()
            blocks.append(nn.Sequential(conv, norm, nn.GELU()))
            in_channels = config.conv_channels
        self.blocks = nn.Sequential(*blocks)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.blocks(wav.unsqueeze(1)).transpose(1, 2)


class LogMelFrontend(nn.Module):
    """``[B, S]`` samples → log-mel ``[B, T, mel_bins]`` (window ``mel_window``, hop ``hop_length``, no centring),
    each band normalised to zero mean and unit variance over the utterance; in training, mel axes
    are randomly warped by up to ``mel_warp``.

    ``T = (S - mel_window) // hop_length + 1``, the same count rule as the conv stack.
    """

    def __init__(self, config: HubertConfig) -> None:
        super().__init__()
        from spokenlm.audio.features import MelConfig

        self.mel = MelConfig(sample_rate=config.sample_rate, n_fft=config.mel_window, hop_length=config.hop_length,
                             n_mels=config.mel_bins, center=False)
        self.warp = config.mel_warp

    def warp_bands(self, frames: torch.Tensor) -> torch.Tensor:
        """Stretch each item's mel axis of ``[B, mel_bins, T]`` by a random factor in ``[1 - warp, 1 + warp]``."""
        from spokenlm.audio.features import warp_mel_bands

        return warp_mel_bands(frames, 1.0 + (2.0 * torch.rand(frames.shape[0], 1) - 1.0) * self.warp)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        from spokenlm.audio.features import log_mel

        frames = log_mel(wav.float(), self.mel)  # [B, mel_bins, T]
        if self.training and self.warp > 0:
            frames = self.warp_bands(frames)
        frames = (frames - frames.mean(dim=-1, keepdim=True)) / (frames.std(dim=-1, keepdim=True) + 1e-5)
        return frames.transpose(1, 2).to(wav.dtype)


class ConvPositionalEmbedding(nn.Module):
    """Grouped convolution over time added to its input: ``[B, T, D]`` → ``[B, T, D]``."""

    def __init__(self, config: HubertConfig) -> None:
        super().__init__()
        self.conv = nn.Conv1d(
            config.dim, config.dim, config.pos_conv_kernel, padding=config.pos_conv_kernel // 2, groups=config.pos_conv_groups
        )
        self.trim = 1 if config.pos_conv_kernel % 2 == 0 else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.transpose(1, 2))
        if self.trim:
            y = y[..., : -self.trim]
        return x + nn.functional.gelu(y).transpose(1, 2)


def span_mask(batch: int, frames: int, prob: float, length: int, generator: torch.Generator) -> torch.Tensor:
    """Random spans of ``length`` frames starting at a ``prob`` share of frames: bool ``[B, T]`` (at least one span per row)."""
    starts = torch.rand(batch, frames, generator=generator) < prob
    starts[torch.arange(batch), torch.randint(0, max(frames - length, 1), (batch,), generator=generator)] = True
    mask = torch.zeros(batch, frames + length, dtype=torch.bool)
    for offset in range(length):
        mask[:, offset : offset + frames] |= starts
    return mask[:, :frames]


class HubertModel(nn.Module):
    """Encoder + masked-prediction head. See the module docstring for shapes."""

    def __init__(self, config: HubertConfig) -> None:
        super().__init__()
        self.config = config
        self.waveform_encoder = ConvWaveformEncoder(config) if config.frontend == "conv" else LogMelFrontend(config)
        self.feature_norm = nn.LayerNorm(config.frontend_dim)
        self.feature_projection = nn.Linear(config.frontend_dim, config.dim)
        self.mask_embedding = nn.Parameter(torch.empty(config.dim).uniform_())
        self.positional = ConvPositionalEmbedding(config)
        self.input_norm = nn.LayerNorm(config.dim)
        self.dropout = nn.Dropout(config.dropout)
        rng = torch.get_rng_state()
        self.transformer = Transformer(TransformerConfig(
            dim=config.dim, layers=config.layers, heads=config.heads, ffn_dim=config.ffn_dim, norm="layer", mlp="gelu",
            qkv_bias=True, out_bias=True, causal=False, rope=False, final_norm=False,
            dropout=config.dropout, attention_dropout=config.dropout, ffn_dropout=config.dropout,
        ))
        torch.set_rng_state(rng)
        _init_like_torch_encoder_layers(self.transformer)
        self.final_projection = nn.Linear(config.dim, config.final_dim)
        self.target_embeddings = nn.Parameter(torch.randn(config.num_targets, config.final_dim) * 0.02)
        self._register_load_state_dict_pre_hook(renamed_blocks_hook("blocks", _TORCH_LAYER_NAMES))

    def num_frames(self, num_samples: int) -> int:
        """T produced from ``num_samples`` samples."""
        length = num_samples
        if self.config.frontend == "mel":
            return max((length - self.config.mel_window) // self.config.hop_length + 1, 0)
        for kernel, stride in zip(self.config.conv_kernels, self.config.conv_strides, strict=True):
            length = (length - kernel) // stride + 1
        return max(length, 0)

    def hidden_states(self, wav: torch.Tensor, mask: torch.Tensor | None = None, upto: int | None = None) -> list[torch.Tensor]:
        """States ``0..upto`` (default all), each ``[B, T, D]``; ``mask`` ``[B, T]`` replaces frames by the mask embedding."""
        x = self.feature_projection(self.feature_norm(self.waveform_encoder(wav)))
        if mask is not None:
            x = torch.where(mask.unsqueeze(-1), self.mask_embedding.to(x.dtype), x)
        x = self.dropout(self.input_norm(self.positional(x)))
        return self.transformer.hidden_states(x, upto)

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        """Cosine-similarity logits ``[B, T, num_targets]`` of the last states ``[B, T, D]``."""
        projected = nn.functional.normalize(self.final_projection(states), dim=-1)
        targets = nn.functional.normalize(self.target_embeddings, dim=-1)
        return projected @ targets.T / self.config.logit_temperature

    def forward(
        self, wav: torch.Tensor, targets: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, float]:
        """The masked-prediction objective: cross-entropy on masked frames of ``wav [B, S]`` against ``targets [B, T]`` (``T = num_frames(S)``).

        Returns (loss, accuracy on masked frames). Spans are drawn from ``generator`` (a CPU generator).
        """
        frames = self.num_frames(wav.shape[1])
        if targets.shape[1] != frames:
            raise ValueError(f"targets have {targets.shape[1]} frames, the encoder gives {frames}")
        mask = span_mask(wav.shape[0], frames, self.config.mask_prob, self.config.mask_length, generator).to(wav.device)
        logits = self.logits(self.hidden_states(wav, mask)[-1])[mask].float()
        labels = targets[mask]
        loss = nn.functional.cross_entropy(logits, labels)
        accuracy = (logits.argmax(-1) == labels).float().mean().item()
        return loss, accuracy

# Checkpoints written when the blocks were ``nn.TransformerEncoderLayer``s (the same computation, other names).
_TORCH_LAYER_NAMES = {"self_attn.in_proj_": "attn.qkv.", "self_attn.out_proj.": "attn.out.", "linear1.": "mlp.fc1.",
                      "linear2.": "mlp.fc2.", "norm1.": "attn_norm.", "norm2.": "mlp_norm."}


@torch.no_grad()
def _init_like_torch_encoder_layers(transformer: Transformer) -> None:
    """HuBERT's initialisation: that of ``nn.TransformerEncoderLayer`` (the blocks it was built with first), drawing
    from the global generator in the same order, so a seed gives the same weights as before the shared transformer:
    per block the output projection (kaiming, then its bias zeroed), q/k/v (xavier, zero bias), then the feed-forward."""
    for block in transformer.blocks:
        block.attn.out.reset_parameters()
        nn.init.xavier_uniform_(block.attn.qkv.weight)
        nn.init.zeros_(block.attn.qkv.bias)
        nn.init.zeros_(block.attn.out.bias)
        block.mlp.fc1.reset_parameters()
        block.mlp.fc2.reset_parameters()
