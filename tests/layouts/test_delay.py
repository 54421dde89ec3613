"""Delay pattern: exact hand-worked arrays and delay ∘ undelay = identity, on numpy and torch, with batch dimensions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spokenlm.errors import SpokenLMError
from spokenlm.layouts import delay, undelay

PAD = -1


def test_delay_by_hand() -> None:
    ids = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    expected = np.array([[1, 2, 3, PAD, PAD], [PAD, 4, 5, 6, PAD], [PAD, PAD, 7, 8, 9]])
    np.testing.assert_array_equal(delay(ids, [0, 1, 2], PAD), expected)
    np.testing.assert_array_equal(undelay(expected, [0, 1, 2]), ids)
    np.testing.assert_array_equal(delay(ids, [0, 0, 0], PAD), ids)


@pytest.mark.parametrize("shape", [(4, 7), (2, 4, 7), (2, 3, 4, 7)])
def test_undelay_inverts_delay_on_random_ids(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 100, size=shape)
    delays = [0, 2, 1, 3]
    delayed = delay(ids, delays, PAD)
    assert delayed.shape == (*shape[:-1], shape[-1] + 3)
    assert (delayed == PAD).sum() == ids[..., 0].size * 3  # each stream has max(delays) pad frames
    np.testing.assert_array_equal(undelay(delayed, delays), ids)
    tensor = torch.from_numpy(ids)
    delayed_tensor = delay(tensor, delays, PAD)
    assert isinstance(delayed_tensor, torch.Tensor) and delayed_tensor.dtype == tensor.dtype
    np.testing.assert_array_equal(delayed_tensor.numpy(), delayed)
    assert torch.equal(undelay(delayed_tensor, delays), tensor)


def test_bad_shapes_and_delays() -> None:
    with pytest.raises(SpokenLMError, match=r"\[\.\.\., K, T\] with K = 3"):
        delay(np.zeros((2, 5), dtype=np.int64), [0, 1, 2], PAD)
    with pytest.raises(SpokenLMError, match=">= 0 frames"):
        delay(np.zeros((2, 5), dtype=np.int64), [0, -1], PAD)
    with pytest.raises(SpokenLMError, match="fewer than the largest delay"):
        undelay(np.zeros((2, 2), dtype=np.int64), [0, 3])
