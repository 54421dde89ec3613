"""Shared fixtures: the real speech in tests/assets (and small tokenizers fitted on it), the goldens, one compute thread per test process."""

from __future__ import annotations

import os
from pathlib import Path

# One compute thread per process: tests start subprocesses (torchrun ranks, tokenize workers)
# and on a 2-core machine oversubscribed threads slow small models down by an order of magnitude.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from spokenlm.audio.io import load_audio  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

from helpers.paths import ASSETS, REPO  # noqa: E402

DATA = ASSETS
GOLDEN = REPO / "tests" / "golden"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's real test data (see tests/assets/LICENSES.md)."""
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

    spec = importlib.util.spec_from_file_location("make_goldens", REPO / "scripts" / "make_goldens.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def golden_meta() -> dict:
    """``tests/golden/goldens.json``: the recorded commands, machine and headline numbers."""
    import json

    return json.loads((GOLDEN / "goldens.json").read_text())


@pytest.fixture(scope="session")
def fsdd_wavs(fsdd_clips: list[Path]) -> list[np.ndarray]:
    """24 FSDD clips (index 0 of digits 0-3 by all 6 speakers), mono float32 at 16 kHz."""
    paths = [p for p in fsdd_clips if p.stem.endswith("_0") and p.stem[0] in "0123"]
    return [load_audio(p, 16000)[0] for p in paths]


@pytest.fixture(scope="session")
def lj_wav(ljspeech_clips: list[Path]) -> np.ndarray:
    """LJ001-0001 (~9.7 s), mono float32 at 16 kHz."""
    return load_audio(ljspeech_clips[0], 16000)[0]


@pytest.fixture(scope="session")
def asr_clips(data_dir: Path) -> list[Path]:
    """12 speechbrain Harvard-sentence clips, 16 kHz, 2 speakers (``spk{1,2}_snt{N}.wav``)."""
    return sorted((data_dir / "speechbrain" / "ASR").glob("*.wav"))


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, asr_clips: list[Path]) -> Path:
    """An MFCC (50 Hz) + 16-means unit tokenizer fitted on four real clips."""
    from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
    from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
    from spokenlm.tokenizers.units import UnitTokenizer

    extractor = MfccEncoder(MfccConfig())
    features = [extractor.extract(load_audio(path, 16000)[0]) for path in asr_clips[:4]]
    quantizer = KMeansQuantizer.fit(features, KMeansConfig(k=16, algorithm="full", n_init=1, max_iter=30, seed=0))
    directory = tmp_path_factory.mktemp("tokenizer") / "mfcc-km16"
    UnitTokenizer(extractor, quantizer, name="mfcc-km16").save_pretrained(directory)
    return directory
