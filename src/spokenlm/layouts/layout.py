"""``StreamLayout``: the streams a model reads and writes, and what packing, the loss and sampling ask of them.

A layout is the tuple of a model's :class:`StreamSpec` (one per row of ``[B, K, T]``); it knows K, each
stream's vocabulary size, the delays and their maximum, and delays/undelays ids with them. It is a plain
frozen dataclass, so a model config can hold one (``spokenlm.config`` reads it from YAML).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spokenlm.config import from_dict
from spokenlm.errors import ConfigError
from spokenlm.layouts.arrays import Ids
from spokenlm.layouts.delay import delay, undelay
from spokenlm.layouts.spec import StreamSpec


@dataclass(frozen=True)
class StreamLayout:
    """The specs of a model's K streams, in row order.

    Attributes:
        streams: one :class:`StreamSpec` per stream; every vocabulary size must be known (> 0) and every
            stream must share one frame rate (they are rows of one ``[K, T]`` array).
    """

    streams: tuple[StreamSpec, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "streams", tuple(self.streams))
        if not self.streams:
            raise ConfigError("a stream layout needs at least one stream")
        unknown = [k for k, s in enumerate(self.streams) if s.vocab_size < 1]
        if unknown:
            raise ConfigError(f"stream(s) {unknown} of the layout have no vocabulary size (vocab_size=0)")
        rates = sorted({s.frame_rate for s in self.streams})
        if len(rates) > 1:
            raise ConfigError(f"the streams of a layout share one frame rate, got {rates} Hz")

    @property
    def num_streams(self) -> int:
        """K."""
        return len(self.streams)

    @property
    def vocab_sizes(self) -> tuple[int, ...]:
        """Token ids per stream (before any special tokens a vocabulary adds), ``[K]``."""
        return tuple(s.vocab_size for s in self.streams)

    @property
    def delays(self) -> tuple[int, ...]:
        """Frames each stream is shifted right by, ``[K]``."""
        return tuple(s.delay for s in self.streams)

    @property
    def max_delay(self) -> int:
        """The largest delay: a delayed sequence of T frames has ``T + max_delay`` frames."""
        return max(self.delays)

    @property
    def frame_rate(self) -> float:
        """The streams' frame rate (Hz)."""
        return self.streams[0].frame_rate

    def with_delays(self, delays: Sequence[int]) -> StreamLayout:
        """The same streams with ``delays`` (one per stream, frames)."""
        if len(delays) != self.num_streams:
            raise ConfigError(f"{len(delays)} delays for {self.num_streams} streams")
        return StreamLayout(tuple(dataclasses.replace(s, delay=int(d)) for s, d in zip(self.streams, delays)))

    def select(self, role: str | None = None, channel: str | None = None) -> tuple[int, ...]:
        """Indices of the streams with this ``role`` and/or ``channel`` (e.g. for per-role loss weights)."""
        return tuple(k for k, s in enumerate(self.streams) if role in (None, s.role) and channel in (None, s.channel))

    def delay(self, ids: Ids, pad: int) -> Ids:
        """``[..., K, T]`` → ``[..., K, T + max_delay]`` with this layout's delays (:func:`spokenlm.layouts.delay.delay`)."""
        return delay(ids, self.delays, pad)

    def undelay(self, ids: Ids) -> Ids:
        """``[..., K, T + max_delay]`` → ``[..., K, T]`` (:func:`spokenlm.layouts.delay.undelay`)."""
        return undelay(ids, self.delays)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe ``{"streams": [spec dicts]}``."""
        return {"streams": [s.to_dict() for s in self.streams]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamLayout:
        """Inverse of :meth:`to_dict`; bad keys or values raise :class:`ConfigError`."""
        return from_dict(cls, data, prefix="layout.")
