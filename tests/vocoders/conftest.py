"""Fixtures of the vocoder tests: a tiny MFCC k-means tokenizer trained on real speech."""

from __future__ import annotations

from pathlib import Path

import pytest

from spokenlm.audio.io import load_audio


@pytest.fixture(scope="session")
def asr_clips(data_dir: Path) -> list[Path]:
    """12 speechbrain Harvard-sentence clips, 16 kHz, 2 speakers (``spk{1,2}_snt{N}.wav``)."""
    return sorted((data_dir / "speechbrain" / "ASR").glob("*.wav"))


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory, asr_clips: list[Path]) -> Path:
    """An MFCC (50 Hz) + 16-means unit tokenizer fitted on four real clips."""
    from spokenlm.tokenizers.extractors.spectral import MfccConfig, MfccExtractor
    from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
    from spokenlm.tokenizers.units import UnitTokenizer

    extractor = MfccExtractor(MfccConfig())
    features = [extractor.extract(load_audio(path, 16000)[0]) for path in asr_clips[:4]]
    quantizer = KMeansQuantizer.fit(features, KMeansConfig(k=16, algorithm="full", n_init=1, max_iter=30, seed=0))
    directory = tmp_path_factory.mktemp("tokenizer") / "mfcc-km16"
    UnitTokenizer(extractor, quantizer, name="mfcc-km16").save_pretrained(directory)
    return directory
