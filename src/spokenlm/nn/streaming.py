"""One streaming abstraction for every causal module, the LM included (after Moshi's ``StreamingModule``).

A :class:`StreamingModule` keeps a typed per-module state (a :class:`StreamingState`
dataclass whose tensors all have the batch dimension first) while inside its
``streaming()`` context; calling it then processes one chunk and carries state to
the next call. Outside the context it runs offline. For every module here, feeding
a signal chunk by chunk gives the offline output (up to float rounding).

    with model.streaming(batch_size=3):
        for chunk in chunks:                      # [B, C, samples]
            out.append(model(chunk))              # [B, C', frames]
            model.reset_streaming(rows)           # rows [B] bool: those rows start a new stream
            model.set_exec_mask(mask)             # mask [B] bool: other rows keep their state this call

Each batch row is an independent stream: a row that is reset starts from a fresh
state, and a row outside the exec mask neither advances nor changes its state (its
outputs of that call are to be ignored). :meth:`StreamingModule.get_streaming_state`
and :meth:`~StreamingModule.set_streaming_state` copy the states of the whole tree
out and back (e.g. to pause a session). A child marked *detached*
(:meth:`~StreamingModule.detach_streaming`) is left out of its parent's context and
runs its own, as Moshi's depth transformer does once per frame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from spokenlm.errors import SpokenLMError


@dataclasses.dataclass
class StreamingState:
    """Base of typed streaming states: dataclasses whose fields are tensors with the batch dimension first."""

    def tensors(self) -> dict[str, torch.Tensor]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def where(self, rows: torch.Tensor, other: StreamingState) -> StreamingState:
        """This state in ``rows`` (bool ``[B]``), ``other`` elsewhere; raises when the two differ in shape."""
        merged = {}
        for name, mine in self.tensors().items():
            theirs = getattr(other, name)
            if mine.shape != theirs.shape:
                raise SpokenLMError(
                    f"{type(self).__name__}.{name}: per-row masks need every row to keep the same shape "
                    f"({tuple(mine.shape)} vs {tuple(theirs.shape)}); feed chunks of whole strides"
                )
            merged[name] = torch.where(rows.view(-1, *([1] * (mine.dim() - 1))), mine, theirs)
        return type(self)(**merged)

    def clone(self) -> StreamingState:
        return type(self)(**{name: t.clone() for name, t in self.tensors().items()})


@dataclasses.dataclass
class BufferState(StreamingState):
    """Samples or frames carried to the next chunk: ``buffer [B, C, N]`` (or ``[B, N]``)."""

    buffer: torch.Tensor


S = TypeVar("S", bound=StreamingState)


class StreamingModule(nn.Module, Generic[S]):
    """Base class of modules with a resettable, per-row streaming state of type ``S``.

    Subclasses override :meth:`_init_state` to build their state for a batch size, read
    ``self._state`` in ``forward`` when :attr:`is_streaming`, and store the next one with
    :meth:`_commit` (which keeps the old state of rows outside the exec mask).
    """

    def __init__(self) -> None:
        super().__init__()
        self._state: S | None = None
        self._streaming = False
        self._exec_mask: torch.Tensor | None = None
        self._detached = False

    @property
    def is_streaming(self) -> bool:
        return self._streaming

    @property
    def exec_mask(self) -> torch.Tensor | None:
        """Bool ``[B]``: rows this call advances (``None``: all)."""
        return self._exec_mask

    def _init_state(self, batch_size: int) -> S | None:
        """Fresh state for ``batch_size`` streams (default: none)."""
        return None

    def _state_restored(self) -> None:
        """Called after :meth:`set_streaming_state` replaced this module's state (default: nothing to do)."""

    def _commit(self, state: S) -> None:
        """Store ``state`` as the next state, except in rows outside the exec mask."""
        if self._exec_mask is None or self._state is None:
            self._state = state
        else:
            self._state = state.where(self._exec_mask, self._state)

    def detach_streaming(self, detached: bool = True) -> StreamingModule:
        """Leave this module (and its children) out of its parents' ``streaming()``; it enters its own."""
        self._detached = detached
        return self

    def _named_streaming_modules(self) -> Iterator[tuple[str, StreamingModule]]:
        """This module and every streaming descendant not under a detached child, with their paths."""

        def walk(prefix: str, module: nn.Module) -> Iterator[tuple[str, StreamingModule]]:
            for name, child in module.named_children():
                path = f"{prefix}.{name}" if prefix else name
                if isinstance(child, StreamingModule):
                    if child._detached:
                        continue
                    yield path, child
                yield from walk(path, child)

        yield "", self
        yield from walk("", self)

    def _streaming_modules(self) -> Iterator[StreamingModule]:
        return (module for _, module in self._named_streaming_modules())

    @contextmanager
    def streaming(self, batch_size: int = 1) -> Iterator[None]:
        """Enter streaming mode for this module and its streaming submodules; state is dropped on exit."""
        modules = list(self._streaming_modules())
        try:
            for module in modules:
                module._streaming = True
                module._exec_mask = None
                module._state = module._init_state(batch_size)
            yield
        finally:
            for module in modules:
                module._streaming = False
                module._exec_mask = None
                module._state = None

    def reset_streaming(self, rows: torch.Tensor | None = None, batch_size: int | None = None) -> None:
        """Start new streams without leaving the context: in ``rows`` (bool ``[B]``), or in every row.

        With ``batch_size`` (and no ``rows``) the states are rebuilt for that many rows.
        """
        for module in self._streaming_modules():
            if not module._streaming or module._state is None:
                continue
            if rows is None:
                batch = batch_size or _batch_of(module._state)
                module._state = None
                module._state = module._init_state(batch)
            else:
                fresh = module._init_state(_batch_of(module._state))
                module._state = fresh.where(rows.to(torch.bool), module._state)

    def set_exec_mask(self, mask: torch.Tensor | None) -> None:
        """Rows (bool ``[B]``) the following calls advance; ``None`` advances all."""
        for module in self._streaming_modules():
            module._exec_mask = None if mask is None else mask.to(torch.bool)

    def get_streaming_state(self) -> dict[str, StreamingState]:
        """A copy of the state of every streaming module in the tree, by module path."""
        self._require_streaming("get_streaming_state")
        return {path: module._state.clone() for path, module in self._named_streaming_modules() if module._state is not None}

    def set_streaming_state(self, states: dict[str, StreamingState]) -> None:
        """Restore states from :meth:`get_streaming_state` (copied in; the argument stays usable)."""
        self._require_streaming("set_streaming_state")
        modules = dict(self._named_streaming_modules())
        unknown = sorted(set(states) - set(modules))
        if unknown:
            raise SpokenLMError(f"streaming state has modules this model lacks: {unknown}")
        for path, module in modules.items():
            if module._state is not None and path not in states:
                raise SpokenLMError(f"streaming state lacks module {path or '<root>'!r}")
            if path in states:
                module._state = states[path].clone()
                module._state_restored()

    def _require_streaming(self, what: str) -> None:
        if not self._streaming:
            raise SpokenLMError(f"{what}() needs the module inside its streaming() context")


def _batch_of(state: StreamingState) -> int:
    return next(iter(state.tensors().values())).shape[0]


class CausalConv1d(StreamingModule[BufferState]):
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

    def _init_state(self, batch_size: int) -> BufferState:
        weight = self.conv.weight
        return BufferState(torch.zeros(batch_size, self.conv.in_channels, self.left_pad, dtype=weight.dtype, device=weight.device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.is_streaming:
            return self.conv(F.pad(x, (self.left_pad, 0)))
        buffer = torch.cat([self._state.buffer, x], dim=-1)
        frames = (buffer.shape[-1] - self.effective_kernel) // self.stride + 1 if buffer.shape[-1] >= self.effective_kernel else 0
        if frames <= 0:
            self._commit(BufferState(buffer))
            return x.new_zeros(x.shape[0], self.conv.out_channels, 0)
        used = (frames - 1) * self.stride + self.effective_kernel
        out = self.conv(buffer[..., :used])
        self._commit(BufferState(buffer[..., frames * self.stride :]))
        return out


class CausalConvTranspose1d(StreamingModule[BufferState]):
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

    def _init_state(self, batch_size: int) -> BufferState:
        weight = self.convtr.weight
        return BufferState(torch.zeros(batch_size, self.convtr.out_channels, self.overlap, dtype=weight.dtype, device=weight.device))

    def _add_bias(self, y: torch.Tensor) -> torch.Tensor:
        return y if self.bias is None else y + self.bias[:, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] == 0:
            return x.new_zeros(x.shape[0], self.convtr.out_channels, 0)
        y = self.convtr(x)
        length = x.shape[-1] * self.stride
        if not self.is_streaming:
            return self._add_bias(y[..., :length])
        y[..., : self.overlap] += self._state.buffer
        self._commit(BufferState(y[..., length:].clone()))
        return self._add_bias(y[..., :length])
