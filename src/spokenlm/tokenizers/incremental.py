"""Tokenize a waveform while it grows, with a tokenizer that is not causal (a BiGRU phone classifier, k-means units).

A non-causal tokenizer's frame ``t`` depends on audio after it, and on per-utterance statistics (the phone
classifier normalises its log-mel per input). :class:`IncrementalEncoder` therefore re-tokenizes overlapping
windows: each window starts ``context_s`` before the first frame not yet committed and ends where the audio
ends, and only frames at least ``margin_s`` before that end are committed; :meth:`IncrementalEncoder.finish`
commits the rest. Windows start on frame boundaries, so window frame ``j`` is frame ``start / hop + j`` of the
whole. With ``context_s=None`` every window starts at sample 0 ("what is final so far"; exact for a tokenizer
whose frames see at most ``margin_s`` ahead, but each window costs the whole turn so far).

    encoder = IncrementalEncoder(tokenizer, 16000)
    for chunk in chunks:                      # float32 [samples] at 16 kHz, as they arrive
        units = encoder.push(chunk)           # newly final units [n] (deduplicated like tokenizer.encode)
    units = encoder.finish(last_chunk)        # the rest: all units together equal encode() of the whole, mostly
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spokenlm.tokenizers.base import SpeechTokenizer


@dataclass
class IncrementalConfig:
    """Windows of :class:`IncrementalEncoder`, in seconds.

    Attributes:
        context_s: audio before the first uncommitted frame that each window re-reads (None: from the start).
        margin_s: frames closer than this to the end of the audio wait for the next window.
        step_s: a new window runs once this much audio arrived since the last one.
    """

    context_s: float | None = 1.0
    margin_s: float = 0.3
    step_s: float = 0.32


class IncrementalEncoder:
    """One growing one-stream waveform at ``sr`` Hz → its units, committed as they become final.

    Units are ids ``[n]`` int64; when ``tokenizer.encode`` deduplicates (its tokens carry durations) the
    committed frames are deduplicated across windows too, so the concatenated output has no repeats.
    Attributes: ``samples`` (audio pushed so far), ``frames`` (frames committed so far).
    """

    def __init__(self, tokenizer: SpeechTokenizer, sr: int, config: IncrementalConfig | None = None) -> None:
        self.tokenizer, self.sr = tokenizer, sr
        self.config = config or IncrementalConfig()
        self.hop = round(sr / tokenizer.frame_rate)  # samples per token frame at sr
        self.audio = np.zeros(0, dtype=np.float32)
        self.frames = 0
        self.windowed = 0  # samples the last window ended at
        self.last: int | None = None  # last committed unit (deduplicating tokenizers)
        self.deduplicates: bool | None = None

    @property
    def samples(self) -> int:
        return len(self.audio)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Append float32 ``[samples]``; returns the units that became final (often none)."""
        self.audio = np.concatenate([self.audio, np.asarray(samples, dtype=np.float32)])
        if self.samples - self.windowed < self.config.step_s * self.sr:
            return np.zeros(0, dtype=np.int64)
        final = (self.samples - round(self.config.margin_s * self.sr)) // self.hop
        return self._commit(final)

    def finish(self, samples: np.ndarray | None = None) -> np.ndarray:
        """Append the waveform's last float32 ``[samples]`` (if any); returns the units of every frame not committed yet."""
        if samples is not None:
            self.audio = np.concatenate([self.audio, np.asarray(samples, dtype=np.float32)])
        return self._commit(None)

    def _commit(self, final: int | None) -> np.ndarray:
        """Tokenize the window ending at the audio's end; commit its frames before ``final`` (None: all)."""
        empty = np.zeros(0, dtype=np.int64)
        if (final is not None and final <= self.frames) or self.samples <= self.frames * self.hop:
            return empty
        context = self.config.context_s
        start = 0 if context is None else max(0, self.frames - round(context * self.tokenizer.frame_rate))
        tokens = self.tokenizer.encode(self.audio[start * self.hop :], self.sr)[0]
        self.windowed = self.samples
        self.deduplicates = tokens.durations is not None
        frames = tokens.expanded().ids[0] if self.deduplicates else tokens.ids[0]
        end = start + len(frames) if final is None else min(final, start + len(frames))
        new = frames[self.frames - start : end - start].astype(np.int64)
        self.frames = max(self.frames, end)
        if not self.deduplicates or len(new) == 0:
            return new
        keep = np.concatenate([[self.last is None or new[0] != self.last], new[1:] != new[:-1]])
        self.last = int(new[-1])
        return new[keep]
