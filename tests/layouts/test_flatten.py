"""Codebooks serialised in time: hand-worked offsets, round trips, and the errors of the inverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.layouts import codebook_offsets, flatten, unflatten


def test_flatten_by_hand() -> None:
    ids = np.array([[1, 2, 3], [0, 4, 1]])  # codebook 0 has 5 ids, codebook 1 has 6
    assert codebook_offsets([5, 6]) == [0, 5]
    flat = flatten(ids, [5, 6])
    np.testing.assert_array_equal(flat, [1, 5, 2, 9, 3, 6])  # frame-major: (c0, c1) of frame 0, then frame 1 …
    np.testing.assert_array_equal(unflatten(flat, [5, 6]), ids)


def test_round_trip_with_batch_dims_numpy_and_torch() -> None:
    sizes = [16, 8, 8]
    rng = np.random.default_rng(1)
    ids = np.stack([rng.integers(0, size, size=(2, 5, 9)) for size in sizes], axis=-2)  # [2, 5, K=3, 9]
    flat = flatten(ids, sizes)
    assert flat.shape == (2, 5, 27) and flat.max() < sum(sizes)
    np.testing.assert_array_equal(unflatten(flat, sizes), ids)
    tensor = torch.from_numpy(ids)
    assert torch.equal(flatten(tensor, sizes), torch.from_numpy(flat))
    assert torch.equal(unflatten(flatten(tensor, sizes), sizes), tensor)


def test_unflatten_errors() -> None:
    with pytest.raises(SpokenLMError, match="length divisible by 2"):
        unflatten(np.arange(5), [5, 6])
    with pytest.raises(SpokenLMError, match="outside their codebook's range at 1 positions"):
        unflatten(np.array([1, 5, 6, 9]), [5, 6])  # position 2 is codebook 0's turn, but 6 is a codebook-1 id
