"""Learning-rate schedules against hand-worked values."""

import math

import pytest

from spokenlm.errors import ConfigError
from spokenlm.train.config import OptimConfig
from spokenlm.train.schedule import learning_rate


def test_warmup_then_cosine_to_a_floor() -> None:
    o = OptimConfig(lr=1.0, schedule="cosine", warmup_steps=4, min_lr_ratio=0.1, max_steps=14)
    assert [learning_rate(s, o) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert learning_rate(4, o) == 1.0  # the decay starts at the first step after the warmup
    assert learning_rate(9, o) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: cos(π/2) = 0
    assert learning_rate(14, o) == pytest.approx(0.1) and learning_rate(99, o) == pytest.approx(0.1)


def test_cosine_to_floor_reaches_the_floor_at_the_last_step() -> None:
    o = OptimConfig(lr=2.0, schedule="cosine-to-floor", warmup_steps=2, min_lr_ratio=0.0, max_steps=6)
    assert [learning_rate(s, o) for s in range(2)] == [1.0, 2.0]
    assert learning_rate(2, o) == pytest.approx(1.0 + math.cos(math.pi / 4))  # progress 1/4
    assert learning_rate(5, o) == 0.0


def test_constant_and_exponential() -> None:
    assert [learning_rate(s, OptimConfig(lr=0.3, schedule="constant", warmup_steps=0)) for s in (0, 5, 500)] == [0.3, 0.3, 0.3]
    o = OptimConfig(lr=1.0, schedule="exponential", warmup_steps=1, lr_decay=0.5)
    assert [learning_rate(s, o) for s in range(4)] == [1.0, 1.0, 0.5, 0.25]
    with pytest.raises(ConfigError, match="optim.schedule 'linear'"):
        learning_rate(3, OptimConfig(schedule="linear", warmup_steps=0))  # type: ignore[arg-type]
