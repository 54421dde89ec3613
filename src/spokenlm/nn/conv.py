"""Length-keeping convolution helpers, centred (offline) or causal (streamable), shared by vocoders and encoders."""

from __future__ import annotations

from torch import nn

from spokenlm.nn.streaming import CausalConv1d, CausalConvTranspose1d

LRELU_SLOPE = 0.1  # HiFi-GAN's leaky-ReLU slope, in its generator and its discriminators


def conv1d(in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1, causal: bool = False, groups: int = 1) -> nn.Module:
    """Stride-1 convolution keeping the length: centred (``padding``) or causal (left-padded, streamable)."""
    if causal:
        return CausalConv1d(in_channels, out_channels, kernel_size, dilation=dilation, groups=groups)
    padding = (kernel_size - 1) * dilation // 2
    return nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=padding, groups=groups)


def upsample1d(in_channels: int, out_channels: int, kernel_size: int, stride: int, causal: bool = False) -> nn.Module:
    """Transposed convolution multiplying the length by ``stride`` exactly."""
    if causal:
        return CausalConvTranspose1d(in_channels, out_channels, kernel_size, stride)
    return nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride, padding=(kernel_size - stride) // 2)
