"""The mel convention of the pretrained HiFi-GAN (V1 universal) and of our unit→mel targets.

22.05 kHz, ``n_fft = win = 1024``, hop 256 samples (86.13 frames/s), 80 Slaney
mels from 0 to 8 kHz, natural log of the clamped *magnitude* mel
(``log(max(mel, 1e-5))``), as in HiFi-GAN's ``meldataset.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from spokenlm.audio.features import MelConfig, log_mel

HIFIGAN_MEL = MelConfig(sample_rate=22050, n_fft=1024, hop_length=256, n_mels=80, fmin=0.0, fmax=8000.0, power=1.0)
LOG_MEL_FLOOR = 1e-5


def vocoder_log_mel(wav: torch.Tensor | np.ndarray, config: MelConfig = HIFIGAN_MEL) -> torch.Tensor:
    """Log-magnitude mel: ``[samples]`` → ``[n_mels, T]`` or ``[B, samples]`` → ``[B, n_mels, T]``, ``T = 1 + samples // hop``."""
    return log_mel(wav, config, eps=LOG_MEL_FLOOR)
