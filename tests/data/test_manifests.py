"""spokenlm.data.manifests: lhotse manifests with our custom fields survive a write → lazy load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from spokenlm.data.manifests import CUTS, RECORDINGS, SUPERVISIONS, load_corpus, make_recording, make_supervision, phone_alignment, write_corpus
from spokenlm.errors import AudioError, ManifestError
from helpers.paths import ASSETS

DATA = ASSETS


def test_round_trip_keeps_custom_fields_and_cuts_follow_supervisions(tmp_path):
    path = DATA / "librivox" / "sense_and_sensibility_01_austen_64kb-0870.wav"
    rec = make_recording(path, "0870")
    first = make_supervision(
        "0870-a", "0870", 0.0, 3.0, "and mister john", "austen-reader", "train",
        phonemes=["AH", "N", "D"], alignment=[("AH", 0.2, 0.3), ("N", 0.3, 0.35), ("D", 0.35, 0.37)], engine="human",
    )
    second = make_supervision("0870-b", "0870", 3.0, 4.0, "dashwood had then", "austen-reader", "dev")
    stats = write_corpus(tmp_path, [(rec, [first, second])])
    assert stats.utterances == {"train": 1, "dev": 1} and stats.seconds == {"train": 3.0, "dev": 4.0}
    assert {p.name for p in tmp_path.iterdir()} == {RECORDINGS, SUPERVISIONS, CUTS}

    corpus = load_corpus(tmp_path)
    (loaded_rec,) = list(corpus.recordings)
    assert loaded_rec.id == "0870" and loaded_rec.sampling_rate == 16000
    assert Path(loaded_rec.sources[0].source).is_absolute()
    sups = {s.id: s for s in corpus.supervisions}
    assert sups["0870-a"].custom == {
        "split": "train", "phonemes": "AH N D", "alignment": [["AH", 0.2, 0.3], ["N", 0.3, 0.35], ["D", 0.35, 0.37]], "engine": "human",
    }
    assert phone_alignment(sups["0870-a"]) == [("AH", 0.2, 0.3), ("N", 0.3, 0.35), ("D", 0.35, 0.37)]
    assert phone_alignment(sups["0870-b"]) == [] and sups["0870-b"].custom == {"split": "dev"}
    cuts = {c.id: c for c in corpus.cuts}
    assert set(cuts) == {"0870-a", "0870-b"}
    assert (cuts["0870-b"].start, cuts["0870-b"].duration) == (3.0, 4.0)
    assert cuts["0870-b"].supervisions[0].start == 0.0  # relative to the cut
    assert cuts["0870-b"].load_audio().shape == (1, 4 * 16000)


def test_bad_inputs_are_typed_errors_naming_the_file(tmp_path):
    with pytest.raises(AudioError, match=r"nothere\.wav: missing"):
        make_recording(tmp_path / "nothere.wav", "x")
    with pytest.raises(ManifestError, match="split 'eval'"):
        make_supervision("s", "r", 0.0, 1.0, "hi", "spk", "eval")
    with pytest.raises(ManifestError, match=f"{tmp_path}: not a corpus folder"):
        load_corpus(tmp_path)


def test_a_failed_write_leaves_no_manifest(tmp_path):
    rec = make_recording(DATA / "fsdd" / "0_george_0.flac", "a")

    def items():
        yield rec, [make_supervision("a", "a", 0.0, rec.duration, "zero", "george", "train")]
        raise RuntimeError("crash in the middle")

    with pytest.raises(RuntimeError):
        write_corpus(tmp_path, items())
    assert list(tmp_path.iterdir()) == []
