"""BPE over unit sequences (HF ``tokenizers``): frequent runs of units become one token.

Each unit id ``u`` is written as the character ``chr(0xF0000 + u)`` (a private-use
plane), so a unit sequence is a string and BPE merges run on it with no
pre-tokenisation. Every BPE token covers a known number of units, so
durations stay exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spokenlm.atomic import atomic_write_text
from spokenlm.errors import SpokenLMError

BPE_NAME = "bpe.json"
_BASE = 0xF0000
_MAX_UNITS = 0xFFFFD - _BASE


def units_to_text(units: np.ndarray) -> str:
    """Unit ids ``[T]`` → a string of ``T`` private-use characters."""
    return "".join(chr(_BASE + int(u)) for u in units)


class UnitBPE:
    """A trained BPE model over unit sequences; ``vocab_size`` includes the single units."""

    def __init__(self, tokenizer) -> None:  # tokenizers.Tokenizer
        self.tokenizer = tokenizer
        vocab = tokenizer.get_vocab()
        self.vocab_size = len(vocab)
        self._units = [np.zeros(0, dtype=np.int64)] * self.vocab_size
        for piece, index in vocab.items():
            self._units[index] = np.array([ord(c) - _BASE for c in piece], dtype=np.int64)

    @classmethod
    def train(cls, sequences: list[np.ndarray], num_units: int, vocab_size: int) -> UnitBPE:
        """Learn merges from unit sequences (each ``[T]``) over a ``num_units`` alphabet up to ``vocab_size`` tokens."""
        from tokenizers import Tokenizer, models, trainers

        if num_units > _MAX_UNITS:
            raise SpokenLMError(f"unit BPE supports at most {_MAX_UNITS} units, got {num_units}")
        if vocab_size < num_units:
            raise SpokenLMError(f"BPE vocab_size {vocab_size} must be at least the {num_units} units")
        tokenizer = Tokenizer(models.BPE())
        alphabet = [chr(_BASE + u) for u in range(num_units)]
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=alphabet, limit_alphabet=num_units, show_progress=False,
            max_token_length=64,
        )
        tokenizer.train_from_iterator((units_to_text(s) for s in sequences), trainer=trainer)
        return cls(tokenizer)

    def encode(self, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit ids ``[T]`` → (BPE ids ``[T']``, units covered by each ``[T']``)."""
        if len(units) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        ids = np.asarray(self.tokenizer.encode(units_to_text(units)).ids, dtype=np.int64)
        spans = np.array([len(self._units[i]) for i in ids], dtype=np.int64)
        return ids, spans

    def decode(self, ids: np.ndarray) -> np.ndarray:
        """BPE ids ``[T']`` → unit ids ``[T]``."""
        pieces = [self._units[int(i)] for i in ids]
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)

    def save(self, directory: str | Path) -> None:
        """Write ``bpe.json`` (the HF tokenizers JSON) into ``directory``."""
        atomic_write_text(Path(directory) / BPE_NAME, self.tokenizer.to_str())

    @classmethod
    def load(cls, directory: str | Path) -> UnitBPE:
        return cls(read_tokenizer_file(Path(directory) / BPE_NAME, "no unit BPE here"))


def read_tokenizer_file(path: Path, missing: str) -> Any:
    """A HF ``tokenizers`` JSON file (``tokenizers.Tokenizer``); missing (``missing`` says what that means) or not
    such a file is a one-line :class:`SpokenLMError` naming it."""
    from tokenizers import Tokenizer

    if not path.is_file():
        raise SpokenLMError(f"{path}: missing ({missing})")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # noqa: BLE001 - tokenizers raises a bare Exception for a bad file
        raise SpokenLMError(f"{path}: not a HF tokenizers file ({str(err).splitlines()[0]})") from err
