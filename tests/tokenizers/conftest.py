"""Fixtures of the tokenizer tests: real speech from tests/data, decoded at 16 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spokenlm.audio.io import load_audio


@pytest.fixture(scope="session")
def fsdd_wavs(fsdd_clips: list[Path]) -> list[np.ndarray]:
    """24 FSDD clips (index 0 of digits 0-3 by all 6 speakers), mono float32 at 16 kHz."""
    paths = [p for p in fsdd_clips if p.stem.endswith("_0") and p.stem[0] in "0123"]
    return [load_audio(p, 16000)[0] for p in paths]


@pytest.fixture(scope="session")
def lj_wav(ljspeech_clips: list[Path]) -> np.ndarray:
    """LJ001-0001 (~9.7 s), mono float32 at 16 kHz."""
    return load_audio(ljspeech_clips[0], 16000)[0]
