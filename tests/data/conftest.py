"""Shared fixtures for the corpus tests: a small corpus of real speech written as lhotse manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.paths import ASSETS

DATA = ASSETS


@pytest.fixture
def fsdd_corpus(tmp_path: Path) -> Path:
    """Six FSDD clips (copied, so tests may break them) as a corpus folder with text and splits."""
    import shutil

    from spokenlm.data.manifests import make_recording, make_supervision, write_corpus

    audio = tmp_path / "audio"
    audio.mkdir()
    items = []
    for i, name in enumerate(["0_george_0", "1_george_0", "2_jackson_0", "3_jackson_0", "4_lucas_0", "5_lucas_0"]):
        path = audio / f"{name}.flac"
        shutil.copy(DATA / "fsdd" / path.name, path)
        rec = make_recording(path, name)
        words = ["zero", "one", "two", "three", "four", "five"]
        sup = make_supervision(name, name, 0.0, rec.duration, words[i], name.split("_")[1], "test" if i >= 4 else "train")
        items.append((rec, [sup]))
    write_corpus(tmp_path / "corpus", items)
    return tmp_path / "corpus"
