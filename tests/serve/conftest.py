"""Tiny real models in a MODEL_DIR (random LM and vocoder, an MFCC k-means tokenizer fitted on FSDD), servers on
loopback, and real speech to talk with."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.serving import serve_config

from spokenlm.audio.io import load_audio
from spokenlm.serve.app import BackgroundServer


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, fsdd_wavs) -> Path:
    """A MODEL_DIR laid out as the quickstart writes it (tokenizer/, lm/model/, vocoder/vocoder/), tiny and untrained."""
    from spokenlm.serve.pipelines.model_dir import write_random_model_dir

    return write_random_model_dir(tmp_path_factory.mktemp("model_dir"), fsdd_wavs[:12])


@pytest.fixture(scope="session")
def half_duplex(model_dir):
    """The half-duplex pipeline over the tiny MODEL_DIR, 40-unit replies."""
    from spokenlm.serve.pipelines import build_pipeline

    return build_pipeline("half-duplex", model_dir, ["reply_units=40"])


@pytest.fixture(scope="session")
def cascade():
    """The cascade: bundled Whisper base, a word 3-gram fitted on the bundled LJSpeech transcripts, espeak-ng."""
    from spokenlm.serve.pipelines import build_pipeline

    return build_pipeline("cascade", None, ["sentences=1", "max_words=6"])


@pytest.fixture(scope="session")
def speech(asr_clips) -> list[np.ndarray]:
    """Three real Harvard sentences of one speaker (16 kHz float32, 2.7-3.2 s, no trailing silence)."""
    return [load_audio(path, 16000)[0] for path in asr_clips[:3]]


@pytest.fixture
def server(half_duplex):
    """A half-duplex server on loopback: yields ``(ws url, BackgroundServer)``."""
    background = BackgroundServer(half_duplex, serve_config())
    with background as url:
        yield url.replace("http", "ws") + "/ws", background
