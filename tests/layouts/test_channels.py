"""Two-channel stacking and splitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.layouts import StreamSpec, codebook_streams, split_channels, stack_channels


def test_stack_and_split_by_hand() -> None:
    model = (StreamSpec("text", 32, 12.5), *codebook_streams(2, 64, 12.5, semantic=1))
    user = codebook_streams(2, 64, 12.5, semantic=1)
    a, b = np.array([[1, 2], [3, 4], [5, 6]]), np.array([[7, 8], [9, 10]])
    specs, ids = stack_channels((model, a), (user, b), channels=("model", "user"))
    np.testing.assert_array_equal(ids, [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]])
    assert [s.channel for s in specs] == ["model"] * 3 + ["user"] * 2
    assert [s.role for s in specs] == ["text", "semantic", "acoustic", "semantic", "acoustic"]
    (specs_a, ids_a), (specs_b, ids_b) = split_channels(specs, ids, channels=("model", "user"))
    np.testing.assert_array_equal(ids_a, a)
    np.testing.assert_array_equal(ids_b, b)
    assert [s.role for s in specs_a] == ["text", "semantic", "acoustic"] and {s.channel for s in specs_b} == {"user"}


def test_batched_torch_round_trip() -> None:
    specs = codebook_streams(2, 64, 12.5)
    a, b = torch.randint(0, 64, (3, 2, 5)), torch.randint(0, 64, (3, 2, 5))
    stacked_specs, ids = stack_channels((specs, a), (specs, b))
    assert ids.shape == (3, 4, 5) and [s.channel for s in stacked_specs] == ["A", "A", "B", "B"]
    (_, back_a), (_, back_b) = split_channels(stacked_specs, ids)
    assert torch.equal(back_a, a) and torch.equal(back_b, b)


def test_channel_errors() -> None:
    specs = codebook_streams(1, 64, 12.5)
    with pytest.raises(SpokenLMError, match="differ in batch or frames"):
        stack_channels((specs, np.zeros((1, 4), dtype=np.int64)), (specs, np.zeros((1, 5), dtype=np.int64)))
    with pytest.raises(SpokenLMError, match="channel B's ids must be"):
        stack_channels((specs, np.zeros((1, 4), dtype=np.int64)), (specs, np.zeros((2, 4), dtype=np.int64)))
    with pytest.raises(SpokenLMError, match="channel\\(s\\) model are in neither"):
        split_channels(specs, np.zeros((1, 4), dtype=np.int64))
