"""Decoding a phone classifier's frames: the smoothed (Viterbi) path against hand-worked examples and brute force."""

from __future__ import annotations

import itertools

import torch

from spokenlm.encoders.phone_model import PhoneClassifier, PhoneClassifierConfig, smoothed_path


def path_score(log_probs: torch.Tensor, path: list[int], penalty: float) -> float:
    return float(sum(log_probs[t, c] for t, c in enumerate(path))) - penalty * sum(a != b for a, b in zip(path, path[1:]))


def test_a_one_frame_flicker_is_removed_and_a_real_change_kept():
    p = torch.tensor([[0.8, 0.1, 0.1]] * 3 + [[0.4, 0.5, 0.1]] + [[0.8, 0.1, 0.1]] * 2 + [[0.05, 0.05, 0.9]] * 3).log()
    assert smoothed_path(p, 0.0).tolist() == [0, 0, 0, 1, 0, 0, 2, 2, 2]  # the frame argmax
    # staying on 0 at frame 3 costs log(0.5/0.4) = 0.22 nats; flickering costs two changes of 1 nat each.
    assert smoothed_path(p, 1.0).tolist() == [0, 0, 0, 0, 0, 0, 2, 2, 2]
    # three frames of class 2 gain 3·log(0.9/0.05) = 8.7 nats: worth one change at 5 nats, not at 10.
    assert smoothed_path(p, 5.0).tolist()[-3:] == [2, 2, 2]
    assert smoothed_path(p, 10.0).tolist() == [0] * 9


def test_the_path_is_the_best_of_all_paths():
    generator = torch.Generator().manual_seed(0)
    for penalty in (0.3, 1.0, 3.0):
        for _ in range(5):
            p = torch.randn(6, 3, generator=generator).log_softmax(-1)
            best = max(path_score(p, list(path), penalty) for path in itertools.product(range(3), repeat=6))
            assert abs(path_score(p, smoothed_path(p, penalty).tolist(), penalty) - best) < 1e-9


def test_a_blank_model_smooths_before_filling_blanks():
    """Outputs 0..2 are phones, 3 the blank: a one-frame phone between blanks of a long run of another is absorbed."""
    model = PhoneClassifier(PhoneClassifierConfig(channels=8, hidden=8, num_phones=3, blank=True))
    probs = torch.tensor([[0.1, 0.7, 0.1, 0.1]] * 3 + [[0.1, 0.2, 0.45, 0.25]] + [[0.1, 0.7, 0.1, 0.1]] * 3)
    assert model.frame_phones(probs.log()).tolist() == [1, 1, 1, 2, 1, 1, 1]
    assert model.frame_phones(probs.log(), switch_penalty=2.0).tolist() == [1] * 7
