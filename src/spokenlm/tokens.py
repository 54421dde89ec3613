"""The ``Tokens`` type every tokenizer produces and every LM and vocoder consumes.

``ids`` is an integer array ``[K, T]``: K parallel streams (codebooks), T frames.
``frame_rate`` is in Hz (frames per second of audio before deduplication).
``durations`` ``[T]`` (frames of the original rate each token covers) is set
for deduplicated units and ``None`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Tokens:
    """Discrete speech tokens of one utterance.

    Attributes:
        ids: ``[K, T]`` int64 token ids.
        frame_rate: frames per second (Hz) of the undeduplicated stream.
        tokenizer: name of the tokenizer that made them.
        durations: ``[T]`` int64 repeat counts for deduplicated units, or ``None``.
    """

    ids: np.ndarray
    frame_rate: float
    tokenizer: str = ""
    durations: np.ndarray | None = None

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
            return Tokens(self.ids, self.frame_rate, self.tokenizer, np.zeros(0, dtype=np.int64))
        base = self.durations if self.durations is not None else np.ones(len(self), dtype=np.int64)
        change = np.any(self.ids[:, 1:] != self.ids[:, :-1], axis=0)
        starts = np.concatenate([[0], np.nonzero(change)[0] + 1])
        durations = np.add.reduceat(base, starts)
        return Tokens(self.ids[:, starts], self.frame_rate, self.tokenizer, durations)

    def expanded(self) -> Tokens:
        """Undo deduplication: repeat each token by its duration (identity when no durations)."""
        if self.durations is None:
            return self
        return Tokens(np.repeat(self.ids, self.durations, axis=1), self.frame_rate, self.tokenizer, None)
