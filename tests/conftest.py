"""Shared fixtures: paths to the real speech in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's real test data (see tests/data/LICENSES.md)."""
    return DATA


@pytest.fixture(scope="session")
def ljspeech_clips() -> list[Path]:
    """32 LJSpeech clips, 22.05 kHz FLAC, one female speaker."""
    return sorted((DATA / "ljspeech").glob("*.flac"))


@pytest.fixture(scope="session")
def fsdd_clips() -> list[Path]:
    """300 FSDD digit clips, 8 kHz FLAC, 6 speakers (``{digit}_{speaker}_{index}.flac``)."""
    return sorted((DATA / "fsdd").glob("*.flac"))
