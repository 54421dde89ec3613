"""The ``Tokens`` type every tokenizer produces and every LM and vocoder consumes.

``ids`` is an integer array ``[K, T]``: K parallel streams (codebooks), T frames.
``frame_rate`` is in Hz (frames per second of audio before deduplication).
``durations`` ``[T]`` (frames of the original rate each token covers) is set
for deduplicated units and ``None`` otherwise. ``streams`` says what each row is
(:class:`~spokenlm.layouts.spec.StreamSpec`: role, vocabulary, channel, codebook, delay).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from spokenlm.errors import SpokenLMError
from spokenlm.layouts.spec import StreamSpec, semantic_streams


@dataclass
class Tokens:
    """Discrete speech tokens of one utterance.

    Attributes:
        ids: ``[K, T]`` int64 token ids.
        frame_rate: frames per second (Hz) of the undeduplicated stream.
        tokenizer: name of the tokenizer that made them.
        durations: ``[T]`` int64 repeat counts for deduplicated units, or ``None``.
        streams: one spec per row, at ``frame_rate``. Tokenizers set their own (``SpeechTokenizer.streams``);
            left out, every row is a semantic stream of unknown vocabulary size (``vocab_size=0``,
            ``codebook`` = the row), which is what a model sees of ids made by hand.
    """

    ids: np.ndarray
    frame_rate: float
    tokenizer: str = ""
    durations: np.ndarray | None = None
    streams: tuple[StreamSpec, ...] = ()

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids)
        if ids.ndim == 1:
            ids = ids[None, :]
        if ids.ndim != 2:
            raise ValueError(f"Tokens.ids must be [K, T], got shape {ids.shape}")
        self.ids = ids.astype(np.int64, copy=False)
        if self.durations is not None:
            durations = np.asarray(self.durations, dtype=np.int64)
            if durations.shape != (ids.shape[1],):
                raise ValueError(f"durations must be [T]={ids.shape[1]}, got {durations.shape}")
            self.durations = durations
        self.streams = tuple(self.streams) or semantic_streams(len(ids), 0, self.frame_rate)
        if len(self.streams) != len(ids):
            raise SpokenLMError(f"Tokens have {len(ids)} streams but {len(self.streams)} stream specs")
        rates = {s.frame_rate for s in self.streams} - {self.frame_rate}
        if rates:
            raise SpokenLMError(f"stream specs at {sorted(rates)} Hz for tokens at {self.frame_rate} Hz")

    @property
    def num_streams(self) -> int:
        """K, the number of parallel streams."""
        return int(self.ids.shape[0])

    def __len__(self) -> int:
        """T, the number of token frames."""
        return int(self.ids.shape[1])

    @property
    def duration_seconds(self) -> float:
        """Length of the audio these tokens cover, in seconds."""
        frames = int(self.durations.sum()) if self.durations is not None else len(self)
        return frames / self.frame_rate

    def deduplicated(self) -> Tokens:
        """Collapse runs of identical frames (all K streams equal) into one token with a duration."""
        if len(self) == 0:
            return replace(self, durations=np.zeros(0, dtype=np.int64))
        base = self.durations if self.durations is not None else np.ones(len(self), dtype=np.int64)
        change = np.any(self.ids[:, 1:] != self.ids[:, :-1], axis=0)
        starts = np.concatenate([[0], np.nonzero(change)[0] + 1])
        durations = np.add.reduceat(base, starts)
        return replace(self, ids=self.ids[:, starts], durations=durations)

    def expanded(self) -> Tokens:
        """Undo deduplication: repeat each token by its duration (identity when no durations)."""
        if self.durations is None:
            return self
        return replace(self, ids=np.repeat(self.ids, self.durations, axis=1), durations=None)
