"""Stream specs and layouts: what each row of token ids ``[K, T]`` is, and how streams are arranged for a model.

* :mod:`~spokenlm.layouts.spec` — :class:`StreamSpec` (role, vocabulary, frame rate, channel, codebook, delay)
  and :func:`codebook_streams`, the specs a tokenizer declares.
* :mod:`~spokenlm.layouts.layout` — :class:`StreamLayout`, the streams of one model.
* :mod:`~spokenlm.layouts.delay` — delay / undelay (MusicGen/Moshi).
* :mod:`~spokenlm.layouts.flatten` — codebooks serialised in time with per-codebook offsets (SpeechGPT, Llama-Mimi).
* :mod:`~spokenlm.layouts.interleave` — word-level speech/text interleaving (SpiRit-LM).
* :mod:`~spokenlm.layouts.formats` — sequence formats of speech+text LMs (speech, text, pairs, interleaved) and back.
* :mod:`~spokenlm.layouts.channels` — two-channel stacking and splitting (dGSLM, Moshi).

A bottom layer: it imports only ``errors``, ``config`` and ``registry``, so ``Tokens``, data, models and generation all use it.
"""

from spokenlm.layouts.channels import split_channels, stack_channels
from spokenlm.layouts.delay import delay, undelay
from spokenlm.layouts.flatten import codebook_offsets, flatten, unflatten
from spokenlm.layouts.interleave import WordSpan, interleave, switch_at_boundaries
from spokenlm.layouts.layout import StreamLayout
from spokenlm.layouts.spec import CHANNELS, ROLES, StreamSpec, codebook_streams, semantic_streams

__all__ = [
    "CHANNELS", "ROLES", "StreamLayout", "StreamSpec", "WordSpan", "codebook_offsets", "codebook_streams", "delay", "flatten",
    "interleave", "semantic_streams", "split_channels", "stack_channels", "switch_at_boundaries", "undelay", "unflatten",
]
