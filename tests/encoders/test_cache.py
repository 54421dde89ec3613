"""Frozen-encoder feature cache: computed once, reused, recomputed for another encoder config, bad audio skipped."""

from __future__ import annotations

import shutil

import pytest
import torch

from helpers.paths import ASSETS
from spokenlm.audio.loader import iter_cuts
from spokenlm.data.manifests import CUTS, make_recording, make_supervision, write_corpus
from spokenlm.encoders.cache import cached_features, read_cache
from spokenlm.encoders.spectral import LogMelConfig, LogMelEncoder
from spokenlm.errors import SpokenLMError


def test_features_are_cached_once_and_keyed_by_the_encoder(tmp_path, monkeypatch) -> None:
    items = []
    for name in ("0_george_0", "1_jackson_0"):
        path = tmp_path / f"{name}.flac"
        shutil.copy(ASSETS / "fsdd" / path.name, path)
        items.append((make_recording(path, name), [make_supervision(name, name, 0.0, 0.3, "zero", "george", "train")]))
    write_corpus(tmp_path / "corpus", items)
    cuts = list(iter_cuts(tmp_path / "corpus" / CUTS))
    encoder = LogMelEncoder(LogMelConfig(n_mels=20))
    cache = tmp_path / "features.safetensors"
    features, skipped = cached_features(encoder, cuts, cache)
    assert sorted(features) == ["0_george_0", "1_jackson_0"] and not skipped and features["0_george_0"].shape[1] == 20
    monkeypatch.setattr(LogMelEncoder, "extract", lambda self, wav: (_ for _ in ()).throw(AssertionError("recomputed")))
    again, _ = cached_features(encoder, cuts, cache)  # read back, nothing extracted
    torch.testing.assert_close(again["1_jackson_0"], features["1_jackson_0"])
    assert read_cache(cache, LogMelEncoder(LogMelConfig(n_mels=40))) == {}  # another config: not reused
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(cache.read_bytes()[:100])
    with pytest.raises(SpokenLMError, match=r"truncated\.safetensors: unreadable cache, truncated") as err:
        read_cache(truncated, encoder)
    assert "\n" not in str(err.value)
    monkeypatch.undo()
    (tmp_path / "1_jackson_0.flac").unlink()
    found, skipped = cached_features(LogMelEncoder(LogMelConfig(n_mels=40)), cuts, tmp_path / "other.safetensors")
    assert list(found) == ["0_george_0"] and len(skipped) == 1 and "1_jackson_0" in skipped[0]
