"""Prosody metrics of pGSLM (Kharitonov et al. 2022) for generated duration and F0 streams.

- **min-MAE**: for each prompt, the mean absolute error between the reference
  continuation and each of its K samples (default K = 20), keeping the best
  sample; averaged over prompts. Only positions present in both are compared
  (NaN marks unvoiced F0 frames).
- **consistency**: Pearson correlation, across prompts, between the prompt's
  mean value and its continuation's mean value.
- **expressiveness**: standard deviation of the values within each
  continuation, averaged over continuations.

:func:`log_f0` extracts a log-F0 contour (NaN where unvoiced) from audio with
librosa's YIN and an energy gate, for when prosody must be measured on waveforms.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.mean(np.abs(a[both] - b[both]))) if both.any() else float("nan")


def min_mae(references: Sequence[np.ndarray], samples: Sequence[Sequence[np.ndarray]]) -> float:
    """Mean over prompts of the smallest MAE between ``references[i]`` ``[T]`` and any of ``samples[i]`` (K × ``[T]``)."""
    if len(references) != len(samples):
        raise ValueError(f"{len(references)} references but {len(samples)} sample sets")
    best = []
    for reference, candidates in zip(references, samples):
        errors = [_mae(np.asarray(reference, float), np.asarray(c, float)) for c in candidates]
        errors = [e for e in errors if np.isfinite(e)]
        if errors:
            best.append(min(errors))
    return float(np.mean(best)) if best else float("nan")


def consistency(prompts: Sequence[np.ndarray], continuations: Sequence[np.ndarray]) -> float:
    """Pearson correlation across items of mean(prompt) vs mean(continuation) (NaNs ignored)."""
    pairs = [(np.nanmean(p), np.nanmean(c)) for p, c in zip(prompts, continuations) if np.isfinite(p).any() and np.isfinite(c).any()]
    if len(pairs) < 2:
        return float("nan")
    x, y = np.asarray(pairs).T
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def expressiveness(continuations: Sequence[np.ndarray]) -> float:
    """Mean over continuations of the standard deviation of their values (NaNs ignored)."""
    stds = [float(np.nanstd(c)) for c in continuations if np.isfinite(c).sum() > 1]
    return float(np.mean(stds)) if stds else float("nan")


def log_f0(
    wav: np.ndarray, sr: int, fmin: float = 60.0, fmax: float = 400.0, hop_seconds: float = 0.01, silence_db: float = -35.0
) -> np.ndarray:
    """Natural-log F0 ``[frames]`` of mono ``wav`` at ``sr`` Hz every ``hop_seconds``; NaN where unvoiced.

    F0 comes from YIN; a frame counts as voiced when its level is within
    ``silence_db`` dB of the loudest frame and its F0 is strictly inside ``(fmin, fmax)``.
    """
    import librosa

    wav = np.asarray(wav, dtype=np.float32)
    hop = max(1, int(round(hop_seconds * sr)))
    frame = int(2 ** np.ceil(np.log2(2.5 * sr / fmin)))
    if wav.size < frame:
        return np.full(max(1, wav.size // hop), np.nan)
    f0 = librosa.yin(wav, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame, hop_length=hop)
    level = librosa.amplitude_to_db(librosa.feature.rms(y=wav, frame_length=frame, hop_length=hop)[0], ref=np.max)
    n = min(f0.size, level.size)
    voiced = (level[:n] > silence_db) & (f0[:n] > fmin * 1.01) & (f0[:n] < fmax * 0.99)
    return np.where(voiced, np.log(f0[:n]), np.nan)


def f0_correlation(f0_ref: np.ndarray, f0_hyp: np.ndarray) -> dict[str, float]:
    """Agreement of two F0 tracks ``[frames]`` (Hz, 0 = unvoiced) at the same frame rate.

    The longer track is cut to the shorter. Returns ``pearson`` (correlation of
    log-F0 over frames voiced in both; NaN if fewer than 3 such frames),
    ``voicing_agreement`` (share of frames with the same voiced/unvoiced
    decision) and ``voiced_frames`` (count used for ``pearson``).
    """
    length = min(len(f0_ref), len(f0_hyp))
    ref, hyp = np.asarray(f0_ref[:length], dtype=np.float64), np.asarray(f0_hyp[:length], dtype=np.float64)
    both = (ref > 0) & (hyp > 0)
    pearson = float("nan")
    if both.sum() >= 3:
        a, b = np.log(ref[both]), np.log(hyp[both])
        if a.std() > 0 and b.std() > 0:
            pearson = float(np.corrcoef(a, b)[0, 1])
    agreement = float(np.mean((ref > 0) == (hyp > 0))) if length else float("nan")
    return {"pearson": pearson, "voicing_agreement": agreement, "voiced_frames": float(both.sum())}
