"""The real-time loop: three calls per frame, ``encode_step`` → LM ``step`` → ``decode_step``.

    loop = RealtimeLoop(tokenizer, lm, greedy_units(lm))          # decoder: the tokenizer's own (a codec)
    with loop.streaming(batch_size=2):                             # two independent sessions
        for frame in frames:                                       # [B, hop] samples at tokenizer.sample_rate
            reply = loop.step(frame)                               # [B, hop] samples of the model's next frame

The tokenizer must be causal (a codec; :meth:`SpeechTokenizer.encode_step`), the
decoder too (the codec itself, or a causal vocoder with ``decode_step``); the LM
models the tokenizer's K streams without delays, so each step's output frame is
the frame after the one heard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch

from spokenlm.errors import SpokenLMError
from spokenlm.models.heads import Choose
from spokenlm.models.unit_lm import UnitLM


def greedy_units(model: UnitLM) -> Choose:
    """A ``choose`` that picks each stream's most likely speech unit (never a special token)."""
    ranges = model.unit_spans()[0]

    def choose(k: int, logits: torch.Tensor) -> torch.Tensor:
        lo, hi = ranges[k]
        return logits[:, lo:hi].argmax(-1) + lo

    return choose


class RealtimeLoop:
    """Audio frame in, audio frame out, through a causal tokenizer, a UnitLM and a causal decoder."""

    def __init__(self, tokenizer: Any, model: UnitLM, choose: Choose, decoder: Any | None = None) -> None:
        if model.config.layout != "parallel":
            raise SpokenLMError("the real-time loop needs an LM with the parallel layout (one model frame per audio frame)")
        if any(model.config.stream_delays):
            raise SpokenLMError("the real-time loop needs an LM without stream delays (its output frame must be whole)")
        if model.config.num_streams != tokenizer.num_streams:
            raise SpokenLMError(f"the LM models {model.config.num_streams} streams, the tokenizer emits {tokenizer.num_streams}")
        self.tokenizer, self.model, self.choose = tokenizer, model.eval(), choose
        self.decoder = decoder if decoder is not None else tokenizer
        self.offsets = torch.tensor([v.unit_offset for v in model.vocabs])[None, :, None]  # [1, K, 1]

    @contextlib.contextmanager
    def streaming(self, batch_size: int = 1) -> Iterator[None]:
        """Enter the streaming state of all three parts for ``batch_size`` sessions."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.tokenizer.streaming(batch_size))
            stack.enter_context(self.model.streaming(batch_size))
            if self.decoder is not self.tokenizer:
                stack.enter_context(self.decoder.streaming(batch_size))
            yield

    @torch.inference_mode()
    def step(self, wav: torch.Tensor) -> torch.Tensor:
        """One frame of every session, ``[B, hop]`` samples → the model's next frame, ``[B, hop]`` samples."""
        codes = self.tokenizer.encode_step(wav)  # [B, K, 1]
        if codes.shape[-1] != 1:
            raise SpokenLMError(f"the real-time loop takes one frame per step ({self.tokenizer.hop_length} samples), got {wav.shape[-1]}")
        offsets = self.offsets.to(codes.device)
        reply = self.model.step(codes + offsets, self.choose)  # [B, K] model ids
        return self.decoder.decode_step(reply[:, :, None] - offsets)
