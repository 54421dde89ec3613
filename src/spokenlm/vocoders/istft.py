"""A fast generator with an iSTFT head (after Vocos, Siuzdak 2023), causal and streamable.

Frames ``[B, C_in, T]`` → causal ConvNeXt blocks at the frame rate → per-frame
log-magnitude and phase of an ``n_fft``-point spectrum → inverse FFT and
overlap-add at hop ``hop_length`` → waveform ``[B, 1, T * hop_length]``.
No upsampling convolutions run at the sample rate, which is what makes it fast.

Frame ``t``'s window covers samples ``[t·hop, t·hop + n_fft)``; after frame ``t``
the samples ``[t·hop, (t+1)·hop)`` are complete, so streaming adds no look-ahead.
Overlap-add is divided by the constant steady-state window envelope, so the
first ``n_fft - hop`` samples fade in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from spokenlm.nn.streaming import BufferState, StreamingModule
from spokenlm.nn.conv import conv1d


@dataclass
class ISTFTConfig:
    """Shape of :class:`ISTFTGenerator`.

    Attributes:
        in_channels: input feature channels.
        dim: backbone channels.
        intermediate_dim: ConvNeXt MLP width.
        num_layers: ConvNeXt blocks.
        kernel_size: depthwise kernel, frames.
        hop_length: output samples per frame.
        n_fft: FFT size (a multiple of ``hop_length``; 4× is usual).
        causal: causal depthwise convolutions (streamable).
    """

    in_channels: int = 128
    dim: int = 256
    intermediate_dim: int = 768
    num_layers: int = 6
    kernel_size: int = 7
    hop_length: int = 320
    n_fft: int = 1280
    causal: bool = True


class ConvNeXtBlock(nn.Module):
    """Depthwise conv → LayerNorm → MLP (GELU) → layer scale, residual. ``[B, D, T]`` → same."""

    def __init__(self, dim: int, intermediate_dim: int, kernel_size: int, causal: bool) -> None:
        super().__init__()
        self.dwconv = conv1d(dim, dim, kernel_size, causal=causal, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(self.dwconv(x).transpose(1, 2))
        y = self.gamma * self.pwconv2(torch.nn.functional.gelu(self.pwconv1(y)))
        return x + y.transpose(1, 2)


class ISTFTHead(StreamingModule[BufferState]):
    """Features ``[B, D, T]`` → waveform ``[B, 1, T * hop]`` by inverse FFT + overlap-add (state: the spill-over tail)."""

    def __init__(self, dim: int, n_fft: int, hop_length: int) -> None:
        super().__init__()
        if n_fft % hop_length:
            raise ValueError("ISTFTHead needs n_fft to be a multiple of hop_length")
        self.n_fft = n_fft
        self.hop = hop_length
        self.proj = nn.Linear(dim, n_fft + 2)
        window = torch.hann_window(n_fft)
        self.register_buffer("window", window, persistent=False)
        envelope = (window**2).reshape(-1, hop_length).sum(0).mean()  # steady-state Σ w² at hop spacing
        self.register_buffer("envelope", envelope, persistent=False)

    def _init_state(self, batch_size: int) -> BufferState:
        return BufferState(torch.zeros(batch_size, self.n_fft - self.hop, device=self.window.device))

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """Windowed time-domain frames ``[B, T, n_fft]`` of features ``[B, D, T]``."""
        log_magnitude, phase = self.proj(x.transpose(1, 2)).chunk(2, dim=-1)
        spectrum = torch.polar(log_magnitude.clamp(max=6.0).exp(), phase)
        return torch.fft.irfft(spectrum, n=self.n_fft) * self.window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, length = x.shape
        frames = self.frames(x)  # [B, T, n_fft]
        total = (length - 1) * self.hop + self.n_fft
        ola = torch.nn.functional.fold(
            frames.transpose(1, 2), output_size=(1, total), kernel_size=(1, self.n_fft), stride=(1, self.hop)
        ).reshape(batch, total) if length else x.new_zeros(batch, self.n_fft - self.hop)
        if self.is_streaming:
            carried = self._state.buffer
            ola = torch.cat([ola[:, : carried.shape[1]] + carried, ola[:, carried.shape[1] :]], dim=1)
            self._commit(BufferState(ola[:, length * self.hop :]))
        return (ola[:, : length * self.hop] / self.envelope).unsqueeze(1)


class ISTFTGenerator(StreamingModule):
    """Frames ``[B, in_channels, T]`` → waveform ``[B, 1, T * hop_length]`` (not bounded; clamp when saving)."""

    def __init__(self, config: ISTFTConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = conv1d(config.in_channels, config.dim, config.kernel_size, causal=config.causal)
        self.norm = nn.LayerNorm(config.dim)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(config.dim, config.intermediate_dim, config.kernel_size, config.causal) for _ in range(config.num_layers)
        )
        self.final_norm = nn.LayerNorm(config.dim)
        self.head = ISTFTHead(config.dim, config.n_fft, config.hop_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.embed(x).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x.transpose(1, 2)).transpose(1, 2))
