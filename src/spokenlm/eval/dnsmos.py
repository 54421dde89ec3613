"""DNSMOS P.835 / P.808 quality estimates (ONNX models shipped in ``speechmos``), a MOS proxy.

Scores are on a 1-5 scale: ``ovrl`` (overall), ``sig`` (speech signal),
``bak`` (background) and ``p808`` (ITU-T P.808 MOS).
"""

from __future__ import annotations

import numpy as np

from spokenlm.audio.io import resample
from spokenlm.errors import MissingDependencyError

DNSMOS_SAMPLE_RATE = 16000


def dnsmos(wav: np.ndarray, sr: int) -> dict[str, float]:
    """DNSMOS of mono ``wav`` ``[samples]`` at ``sr`` Hz → ``{"ovrl", "sig", "bak", "p808"}``.

    Clips shorter than the model's 9 s window are tiled by ``speechmos`` itself.
    """
    try:
        from speechmos import dnsmos as speechmos_dnsmos
    except ImportError as err:
        raise MissingDependencyError("speechmos", "audio-models", "DNSMOS") from err
    audio = np.clip(resample(np.asarray(wav, dtype=np.float32), sr, DNSMOS_SAMPLE_RATE), -1.0, 1.0)
    scores = speechmos_dnsmos.run(audio, DNSMOS_SAMPLE_RATE)
    return {
        "ovrl": float(scores["ovrl_mos"]),
        "sig": float(scores["sig_mos"]),
        "bak": float(scores["bak_mos"]),
        "p808": float(scores["p808_mos"]),
    }
