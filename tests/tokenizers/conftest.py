"""Shared fixtures of the tokenizer tests: real speech from tests/data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spokenlm.audio.io import load_audio

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def fsdd_wavs() -> list[np.ndarray]:
    """24 FSDD digits (4 speakers × 6), mono float32 at 16 kHz."""
    paths = sorted(DATA.glob("fsdd/[0-5]_*_0.flac"))[:24]
    return [load_audio(p, 16000)[0] for p in paths]


@pytest.fixture(scope="session")
def lj_wav() -> np.ndarray:
    """One LJSpeech sentence (~9.7 s), mono float32 at 16 kHz."""
    return load_audio(DATA / "ljspeech" / "LJ001-0001.flac", 16000)[0]
