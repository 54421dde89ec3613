"""Matplotlib figures for the report, returned as base64 PNG data URIs (rendered off-screen, Agg)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np


def _figure(width: float = 6.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=100)


def to_data_uri(fig: Any) -> str:
    """Render ``fig`` to PNG, close it, and return ``data:image/png;base64,...``."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def accuracy_plot(title: str, subsets: dict[str, dict[str, Any]], variant: str = "summed") -> str:
    """Bar chart of accuracy per subset with its confidence interval, and the 50 % chance line."""
    names = list(subsets)
    values = np.array([subsets[n][variant]["value"] for n in names])
    low = np.maximum(values - np.array([subsets[n][variant]["low"] for n in names]), 0)
    high = np.maximum(np.array([subsets[n][variant]["high"] for n in names]) - values, 0)
    fig, ax = _figure(max(4.0, 0.35 * len(names) + 2), 3.4)
    ax.bar(range(len(names)), values, yerr=[low, high], color="#4c72b0", capsize=2)
    ax.axhline(0.5, color="#c44e52", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(range(len(names)), names, rotation=60 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"accuracy ({variant})")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return to_data_uri(fig)


def curve_plot(title: str, curves: dict[str, tuple[Sequence[float], Sequence[float]]], xlabel: str, ylabel: str) -> str:
    """Line plot of named ``(x, y)`` curves (loss curves, perplexity vs VERT)."""
    fig, ax = _figure()
    for name, (x, y) in curves.items():
        ax.plot(x, y, marker="o" if len(x) < 20 else None, markersize=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    if len(curves) > 1:
        ax.legend(fontsize=7)
    return to_data_uri(fig)


def spectrogram_plot(title: str, wav: np.ndarray, sr: int) -> str:
    """Log-mel spectrogram (80 bands, 10 ms hop) of mono ``wav`` ``[samples]`` at ``sr`` Hz."""
    import librosa

    mel = librosa.feature.melspectrogram(y=np.asarray(wav, dtype=np.float32), sr=sr, n_fft=1024, hop_length=max(1, sr // 100), n_mels=80)
    fig, ax = _figure(6.0, 2.4)
    ax.imshow(np.log(mel + 1e-6), origin="lower", aspect="auto", cmap="magma", extent=(0, wav.size / sr, 0, 80))
    ax.set_xlabel("seconds")
    ax.set_ylabel("mel band")
    ax.set_title(title, fontsize=9)
    return to_data_uri(fig)
