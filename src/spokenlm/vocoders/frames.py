"""Frame-rate conversion of token streams (nearest frame in time)."""

from __future__ import annotations

import numpy as np


def frames_at_rate(num_frames: int, rate_in: float, rate_out: float) -> int:
    """How many frames at ``rate_out`` Hz cover ``num_frames`` frames at ``rate_in`` Hz."""
    return max(int(round(num_frames * rate_out / rate_in)), 1 if num_frames else 0)


def resample_frames(values: np.ndarray, rate_in: float, rate_out: float, num_out: int | None = None) -> np.ndarray:
    """Nearest-in-time resampling of ``[..., T]`` from ``rate_in`` to ``rate_out`` Hz → ``[..., num_out]``.

    Output frame ``m`` (at ``m / rate_out`` s) takes input frame ``round(m · rate_in / rate_out)``.
    """
    length = values.shape[-1]
    if num_out is None:
        num_out = frames_at_rate(length, rate_in, rate_out)
    if rate_in == rate_out and num_out == length:
        return values
    index = np.clip(np.round(np.arange(num_out) * rate_in / rate_out).astype(np.int64), 0, max(length - 1, 0))
    return values[..., index]
