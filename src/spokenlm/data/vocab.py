"""The joint vocabulary of a unit LM: special tokens, speech units and optional text tokens.

One embedding table holds every id (the speech+text LM of Cui et al., eq. 4)::

    [0, n_special)                          special tokens: PAD, BOS, EOS, [SPEECH], [TEXT]
    [n_special, n_special + n_units)        speech units 0 … n_units-1
    [.., .. + n_text)                       text tokens 0 … n_text-1 (e.g. a BPE or a text LM's vocabulary)

Unit id ``u`` is model id ``unit_offset + u``; text token ``w`` is ``text_offset + w``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from spokenlm.errors import SpokenLMError

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "[SPEECH]", "[TEXT]")


@dataclass(frozen=True)
class Vocabulary:
    """Maps speech units and text tokens to the model's ids (see the module docstring for the layout).

    Attributes:
        n_units: number of speech units per stream (k-means clusters, codebook size).
        n_text: number of text tokens (0 for a pure speech LM).
    """

    n_units: int
    n_text: int = 0

    pad_id = 0
    bos_id = 1
    eos_id = 2
    speech_id = 3
    text_id = 4
    n_special = len(SPECIAL_TOKENS)

    def __post_init__(self) -> None:
        if self.n_units < 1 or self.n_text < 0:
            raise SpokenLMError(f"vocabulary needs n_units >= 1 and n_text >= 0, got {self.n_units}, {self.n_text}")

    @property
    def unit_offset(self) -> int:
        return self.n_special

    @property
    def text_offset(self) -> int:
        return self.n_special + self.n_units

    @property
    def size(self) -> int:
        """Total number of model ids."""
        return self.n_special + self.n_units + self.n_text

    def units_to_ids(self, units: np.ndarray | torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Unit ids ``[T]`` (0 … n_units-1) → model ids ``[T]`` (int64); raises on out-of-range units."""
        units = torch.as_tensor(np.asarray(units), dtype=torch.long)
        if units.numel() and (int(units.min()) < 0 or int(units.max()) >= self.n_units):
            raise SpokenLMError(f"unit ids must lie in [0, {self.n_units}), got [{int(units.min())}, {int(units.max())}]")
        return units + self.unit_offset

    def encode_units(self, units: np.ndarray | torch.Tensor | Sequence[int], eos: bool = False) -> torch.Tensor:
        """Unit ids ``[T]`` → model ids ``[1 + T (+1)]`` with BOS first (and EOS last when ``eos``)."""
        parts = [torch.tensor([self.bos_id]), self.units_to_ids(units)]
        if eos:
            parts.append(torch.tensor([self.eos_id]))
        return torch.cat(parts)

    def ids_to_units(self, ids: torch.Tensor) -> torch.Tensor:
        """Model ids ``[T]`` → unit ids of the ids that are units (others dropped), ``[T']``."""
        ids = torch.as_tensor(ids, dtype=torch.long)
        keep = (ids >= self.unit_offset) & (ids < self.text_offset)
        return ids[keep] - self.unit_offset

    def text_to_ids(self, tokens: np.ndarray | torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Text token ids ``[T]`` (0 … n_text-1) → model ids ``[T]``."""
        tokens = torch.as_tensor(np.asarray(tokens), dtype=torch.long)
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.n_text):
            raise SpokenLMError(f"text ids must lie in [0, {self.n_text}), got [{int(tokens.min())}, {int(tokens.max())}]")
        return tokens + self.text_offset

    def to_dict(self) -> dict[str, int]:
        return {"n_units": self.n_units, "n_text": self.n_text}


def encode_frames(vocabs: Sequence[Vocabulary], units: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Unit ids of K streams ``[K, T]`` → model ids ``[K, 1 + T]``: a BOS column, then stream k's units in ``vocabs[k]``."""
    units = torch.as_tensor(np.asarray(units), dtype=torch.long)
    if units.dim() != 2 or units.shape[0] != len(vocabs):
        raise SpokenLMError(f"expected unit frames [K={len(vocabs)}, T], got shape {tuple(units.shape)}")
    return torch.stack([vocab.encode_units(row) for vocab, row in zip(vocabs, units)])


def decode_frames(vocabs: Sequence[Vocabulary], ids: torch.Tensor) -> torch.Tensor:
    """Model ids ``[K, n]`` → unit ids ``[K, n']`` of the frames whose every stream is a unit (others dropped)."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    offsets = torch.tensor([v.unit_offset for v in vocabs])[:, None]
    ends = torch.tensor([v.text_offset for v in vocabs])[:, None]
    keep = ((ids >= offsets) & (ids < ends)).all(dim=0)
    return (ids - offsets)[:, keep]
