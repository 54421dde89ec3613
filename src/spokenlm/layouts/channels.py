"""Two-channel stacking (dGSLM, Moshi): the streams of two speakers as one ``[K_a + K_b, T]`` block.

Channel ``first``'s rows come first, then channel ``second``'s; each spec is tagged with its channel, so
:func:`split_channels` finds the rows again. Works on numpy arrays and torch tensors with leading batch
dimensions (``[..., K, T]``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.arrays import Ids, as_ids, concat, require_streams
from spokenlm.layouts.spec import Channel, StreamSpec

Streams = tuple[tuple[StreamSpec, ...], Ids]


def stack_channels(first: tuple[Sequence[StreamSpec], Ids], second: tuple[Sequence[StreamSpec], Ids],
                   channels: tuple[Channel, Channel] = ("A", "B")) -> Streams:
    """``(specs, ids [..., K_a, T])`` of two channels → ``(specs, ids [..., K_a + K_b, T])``, specs tagged with ``channels``."""
    (specs_a, ids_a), (specs_b, ids_b) = first, second
    ids_a, ids_b = as_ids(ids_a), as_ids(ids_b)
    if channels[0] == channels[1]:
        raise SpokenLMError(f"the two channels need different names, got {channels}")
    for specs, ids, name in ((specs_a, ids_a, channels[0]), (specs_b, ids_b, channels[1])):
        require_streams(ids, len(specs), f"channel {name}'s ids")
    if ids_a.shape[:-2] != ids_b.shape[:-2] or ids_a.shape[-1] != ids_b.shape[-1]:
        raise SpokenLMError(f"channels {channels[0]} and {channels[1]} differ in batch or frames: {tuple(ids_a.shape)} vs {tuple(ids_b.shape)}")
    specs = tuple(dataclasses.replace(s, channel=channels[0]) for s in specs_a) + tuple(dataclasses.replace(s, channel=channels[1]) for s in specs_b)
    return specs, concat([ids_a, ids_b], axis=-2)


def split_channels(specs: Sequence[StreamSpec], ids: Ids, channels: tuple[Channel, Channel] = ("A", "B")) -> tuple[Streams, Streams]:
    """The inverse of :func:`stack_channels`: ``(specs, ids [..., K, T])`` → the ``(specs, ids)`` of each of ``channels``."""
    ids = as_ids(ids)
    require_streams(ids, len(specs))
    unknown = sorted({s.channel for s in specs} - set(channels))
    if unknown:
        raise SpokenLMError(f"streams of channel(s) {', '.join(unknown)} are in neither of {channels}")
    out = []
    for name in channels:
        rows = [k for k, s in enumerate(specs) if s.channel == name]
        out.append((tuple(specs[k] for k in rows), ids[..., rows, :]))
    return out[0], out[1]
