"""Shared fixtures: paths to the real speech in tests/data, and one compute thread per test process."""

from __future__ import annotations

import os
from pathlib import Path

# One compute thread per process: tests start subprocesses (torchrun ranks, tokenize workers)
# and on a 2-core machine oversubscribed threads slow small models down by an order of magnitude.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"


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


@pytest.fixture(scope="session")
def goldens():
    """``scripts/make_goldens.py`` as a module: the golden recipes and the readers the golden tests replay."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_goldens", Path(__file__).parents[1] / "scripts" / "make_goldens.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def golden_meta() -> dict:
    """``tests/golden/goldens.json``: the recorded commands, machine and headline numbers."""
    import json

    return json.loads((GOLDEN / "goldens.json").read_text())
