"""One streaming abstraction for every causal module (after Moshi's ``StreamingModule``).

A :class:`StreamingModule` keeps a per-module state while inside its
``streaming()`` context; calling it then processes one chunk and carries state
to the next call. Outside the context it runs offline. For the layers here,
feeding a signal chunk by chunk gives the offline output (up to float rounding).

    with model.streaming(batch_size=1):
        for chunk in chunks:            # [B, C, samples]
            out.append(model(chunk))    # [B, C', frames]
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class StreamingModule(nn.Module):
    """Base class of modules with a resettable streaming state.

    Subclasses override :meth:`_init_state` to build their state for a batch
    size, and read/update ``self._state`` in ``forward`` when :attr:`is_streaming`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._state: Any = None
        self._streaming = False

    @property
    def is_streaming(self) -> bool:
        return self._streaming

    def _init_state(self, batch_size: int) -> Any:
        """Fresh state for ``batch_size`` streams (default: none)."""
        return None

    def _streaming_modules(self) -> Iterator[StreamingModule]:
        return (m for m in self.modules() if isinstance(m, StreamingModule))

    @contextmanager
    def streaming(self, batch_size: int = 1) -> Iterator[None]:
        """Enter streaming mode for this module and every streaming submodule; state is dropped on exit."""
        modules = list(self._streaming_modules())
        for module in modules:
            module._streaming = True
            module._state = module._init_state(batch_size)
        try:
            yield
        finally:
            for module in modules:
                module._streaming = False
                module._state = None

    def reset_streaming(self, batch_size: int = 1) -> None:
        """Start a new stream without leaving the context."""
        for module in self._streaming_modules():
            if module._streaming:
                module._state = module._init_state(batch_size)


class CausalConv1d(StreamingModule):
    """Causal (left-padded) 1-D convolution, streamable: ``[B, C_in, T]`` → ``[B, C_out, T // stride]``.

    Offline, the input is left-padded with ``(kernel-1)*dilation + 1 - stride``
    zeros, so output frame ``t`` sees input samples up to ``(t+1)*stride - 1``.
    A trailing partial stride is dropped offline; in streaming it waits in the buffer.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, dilation: int = 1, groups: int = 1, bias: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation, groups=groups, bias=bias)
        self.stride = stride
        self.effective_kernel = (kernel_size - 1) * dilation + 1
        self.left_pad = self.effective_kernel - stride
        if self.left_pad < 0:
            raise ValueError("CausalConv1d needs stride <= (kernel_size-1)*dilation + 1")

    def _init_state(self, batch_size: int) -> torch.Tensor:
        weight = self.conv.weight
        return torch.zeros(batch_size, self.conv.in_channels, self.left_pad, dtype=weight.dtype, device=weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_streaming:
            return self.conv(F.pad(x, (self.left_pad, 0)))
        buffer = torch.cat([self._state, x], dim=-1)
        frames = (buffer.shape[-1] - self.effective_kernel) // self.stride + 1 if buffer.shape[-1] >= self.effective_kernel else 0
        if frames <= 0:
            self._state = buffer
            return x.new_zeros(x.shape[0], self.conv.out_channels, 0)
        used = (frames - 1) * self.stride + self.effective_kernel
        out = self.conv(buffer[..., :used])
        self._state = buffer[..., frames * self.stride :]
        return out


class CausalConvTranspose1d(StreamingModule):
    """Causal transposed convolution (upsampling), streamable: ``[B, C_in, T]`` → ``[B, C_out, T * stride]``.

    The ``kernel - stride`` samples that spill past the last input frame are
    trimmed offline and carried to the next chunk in streaming, where they are
    added to its output, so chunked output equals offline output.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, bias: bool = True) -> None:
        super().__init__()
        if kernel_size < stride:
            raise ValueError("CausalConvTranspose1d needs kernel_size >= stride")
        self.convtr = nn.ConvTranspose1d(in_channels, out_channels, kernel_size, stride=stride, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.stride = stride
        self.overlap = kernel_size - stride

    def _init_state(self, batch_size: int) -> torch.Tensor:
        weight = self.convtr.weight
        return torch.zeros(batch_size, self.convtr.out_channels, self.overlap, dtype=weight.dtype, device=weight.device)

    def _add_bias(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.bias is None else y + self.bias[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == 0:
            return x.new_zeros(x.shape[0], self.convtr.out_channels, 0)
        y = self.convtr(x)
        length = x.shape[-1] * self.stride
        if not self.is_streaming:
            return self._add_bias(y[..., :length])
        y[..., : self.overlap] += self._state
        self._state = y[..., length:].clone()
        return self._add_bias(y[..., :length])
