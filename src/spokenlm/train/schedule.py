"""Learning-rate schedules of :class:`~spokenlm.train.config.OptimConfig`: linear warmup, then cosine, constant or exponential.

The two cosines differ by one step: ``cosine`` starts its decay at the first step after the
warmup (so the peak lasts two steps and the last step stays just above the floor; the LM
recipes), ``cosine-to-floor`` counts the decay like the warmup, from 1 (so the last step
reaches the floor; the HuBERT recipes).
"""

from __future__ import annotations

import math

from spokenlm.errors import ConfigError
from spokenlm.train.config import OptimConfig


def learning_rate(step: int, optim: OptimConfig) -> float:
    """Learning rate of optimizer step ``step`` (0-based)."""
    if step < optim.warmup_steps:
        return optim.lr * (step + 1) / optim.warmup_steps
    if optim.schedule == "constant":
        return optim.lr
    if optim.schedule == "exponential":
        return optim.lr * optim.lr_decay ** (step - optim.warmup_steps)
    if optim.schedule not in ("cosine", "cosine-to-floor"):
        raise ConfigError(f"optim.schedule {optim.schedule!r} is not one of cosine, cosine-to-floor, constant, exponential")
    span = max(optim.max_steps - optim.warmup_steps, 1)
    done = step + 1 if optim.schedule == "cosine-to-floor" else step
    progress = min((done - optim.warmup_steps) / span, 1.0)
    floor = optim.lr * optim.min_lr_ratio
    return floor + (optim.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))
