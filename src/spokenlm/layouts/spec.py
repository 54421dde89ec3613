"""``StreamSpec``: what one row of token ids ``[K, T]`` is — its role, channel, vocabulary, frame rate and delay.

A tokenizer declares the specs of the streams it emits (:func:`codebook_streams` builds the usual
ones); ``Tokens``, token shards and model configs carry them, and :class:`~spokenlm.layouts.layout.StreamLayout`
groups the specs of one model's streams.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from dataclasses import dataclass
from typing import Any, Literal

from spokenlm.config import from_dict
from spokenlm.errors import ConfigError

Role = Literal["semantic", "acoustic", "text", "pitch", "style"]
Channel = Literal["model", "user", "A", "B"]
ROLES: tuple[str, ...] = typing.get_args(Role)
CHANNELS: tuple[str, ...] = typing.get_args(Channel)


@dataclass(frozen=True)
class StreamSpec:
    """One token stream.

    Attributes:
        role: ``"semantic"`` (content units), ``"acoustic"`` (codec codebook ``codebook``), ``"text"``,
            ``"pitch"`` or ``"style"``.
        vocab_size: number of token ids of the stream, ``0`` when unknown (``Tokens`` made without a
            tokenizer); a :class:`~spokenlm.layouts.layout.StreamLayout` needs it known.
        frame_rate: frames per second (Hz) of the stream, ``0.0`` when unknown.
        channel: whose stream it is: ``"model"``/``"user"`` (full duplex) or ``"A"``/``"B"`` (two speakers).
        codebook: the stream's level in its tokenizer's codebook stack (0 for the first RVQ level or a
            single-stream tokenizer).
        delay: frames the stream is shifted right by when modelled (MusicGen/Moshi delay pattern).
    """

    role: Role
    vocab_size: int
    frame_rate: float
    channel: Channel = "model"
    codebook: int = 0
    delay: int = 0

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(f"stream role {self.role!r} is not one of {', '.join(ROLES)}")
        if self.channel not in CHANNELS:
            raise ConfigError(f"stream channel {self.channel!r} is not one of {', '.join(CHANNELS)}")
        if isinstance(self.frame_rate, bool) or not isinstance(self.frame_rate, numbers.Real) or not math.isfinite(self.frame_rate) or self.frame_rate < 0:
            raise ConfigError(f"stream frame_rate must be a finite number of Hz >= 0, got {self.frame_rate!r}")
        object.__setattr__(self, "frame_rate", float(self.frame_rate))
        for name in ("vocab_size", "codebook", "delay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ConfigError(f"stream {name} must be an integer >= 0, got {value!r}")
            object.__setattr__(self, name, int(value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (every field)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamSpec:
        """Inverse of :meth:`to_dict`; unknown keys or bad values raise :class:`ConfigError`."""
        return from_dict(cls, data, prefix="stream.")


def codebook_streams(num_streams: int, vocab_size: int, frame_rate: float, semantic: int = 0) -> tuple[StreamSpec, ...]:
    """Specs of a tokenizer's ``num_streams`` codebooks: the first ``semantic`` are semantic, the rest acoustic.

    Stream ``k`` gets ``codebook=k``. A unit tokenizer is ``semantic=1`` of 1 stream, a codec ``semantic=0``,
    a mixed (Mimi/SpeechTokenizer-style) codec ``semantic=1``: semantic codebook 0, acoustic codebooks 1..K-1.
    """
    if num_streams < 1 or not 0 <= semantic <= num_streams:
        raise ConfigError(f"codebook streams need num_streams >= 1 and 0 <= semantic <= num_streams, got {num_streams}, {semantic}")
    return tuple(StreamSpec("semantic" if k < semantic else "acoustic", vocab_size, frame_rate, codebook=k) for k in range(num_streams))


def semantic_streams(num_streams: int, vocab_size: int, frame_rate: float) -> tuple[StreamSpec, ...]:
    """K semantic streams (``codebook`` = the row): what ids of unknown origin are taken to be (``Tokens`` made by
    hand, token shards written before stream specs existed)."""
    return codebook_streams(num_streams, vocab_size, frame_rate, semantic=num_streams)
