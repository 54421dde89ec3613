"""Benchmark builders with real espeak-ng voices: pairs, phone matching, held-out voices, resuming."""

from __future__ import annotations

import shutil

import pytest

from spokenlm.audio.io import audio_info
from spokenlm.benchmarks.build import benchmark, build_benchmark
from spokenlm.benchmarks.cmu_lexicon import pronunciations, strip_stress, syllabify
from spokenlm.benchmarks.manifest import read_manifest
from spokenlm.benchmarks.synthesis import SynthesisConfig, TtsModule, select_voices
from spokenlm.config import load_config
from spokenlm.errors import SpokenLMError

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
VOICES = "synthesis.voices=[espeak-ng:en-us+m3,espeak-ng:en-gb+f2]"


def _build(name, out, *overrides):
    config_class = benchmark(name).config_class
    config = load_config(config_class, None, [VOICES, *overrides], base=config_class())
    return build_benchmark(name, config, out)


def test_evs_syllabify_uses_maximal_legal_onsets():
    parts = syllabify(["EH1", "K", "S", "T", "R", "AH0"])  # "extra": S T R is a legal onset, K S T R is not
    assert [(s.onset, s.nucleus, s.coda, s.stress) for s in parts] == [((), "EH", ("K",), "1"), (("S", "T", "R"), "AH", (), "0")]
    assert [p for s in syllabify(pronunciations()["banana"][0]) for p in s.phones()] == pronunciations()["banana"][0]
    with pytest.raises(ValueError, match="no vowel"):
        syllabify(["S", "T"])


def test_evs_select_voices_holds_out_training_voices():
    config = SynthesisConfig(num_voices=3, training_voices=["espeak-ng:en-us+m1", "espeak-ng:en-gb+f2"])
    voices = select_voices(config, seed=1, synth=TtsModule())
    assert len(voices) == 3 and voices == select_voices(config, seed=1, synth=TtsModule())
    variants = [v.rpartition("+")[2] for v in voices]
    assert len(set(variants)) == 3 and not {"m1", "f2"} & set(variants)  # other speakers, in any accent
    with pytest.raises(SpokenLMError, match="are training speakers"):
        select_voices(SynthesisConfig(voices=["espeak-ng:en-gb+m1"], training_voices=["espeak-ng:en-us+m1"]))


@pytest.mark.slow
def test_evs_swuggy_pairs_match_phone_counts_and_resume(tmp_path):
    out = tmp_path / "swuggy"
    summary = _build("swuggy", out, "num_words=5", "synthesis.voices_per_item=2", "lexicon_size=5000")
    records = read_manifest(out)
    assert summary["pairs"] == len(records) == 10 and summary["skipped_pairs"] == 0
    homophones = {tuple(strip_stress(p) for p in pron) for prons in pronunciations().values() for pron in prons}
    for record in records:
        assert len(record.positive_phones) == len(record.negative_phones)  # matched phone counts
        assert pronunciations()[record.positive_text][0] == record.positive_phones
        assert tuple(strip_stress(p) for p in record.negative_phones) not in homophones  # not a word
        assert [len(s.onset) for s in syllabify(record.positive_phones)] == [len(s.onset) for s in syllabify(record.negative_phones)]
        for side in (record.positive, record.negative):
            sr, frames, channels = audio_info(out / side)
            assert (sr, channels) == (16000, 1) and frames > 1600
    assert {r.voice for r in records} == {"espeak-ng:en-us+m3", "espeak-ng:en-gb+f2"}
    # resume: one file lost, one left half-written by a crash -> only that utterance is redone
    (out / records[0].negative).unlink()
    (out / "audio" / ".x_pos.flac.tmp").write_bytes(b"partial")
    again = _build("swuggy", out, "num_words=5", "synthesis.voices_per_item=2", "lexicon_size=5000")
    assert (again["files_made"], again["files_kept"], again["pairs"]) == (1, 19, 10)
    assert not list(out.rglob("*.tmp"))
    assert [r.negative_phones for r in read_manifest(out)] == [r.negative_phones for r in records]  # same pseudo-words


def test_evs_sblimp_pairs_per_phenomenon(tmp_path, data_dir):
    summary = _build("sblimp", tmp_path / "sblimp", f"blimp={data_dir / 'blimp'}", "max_pairs_per_phenomenon=1")
    records = read_manifest(tmp_path / "sblimp")
    assert summary["pairs"] == 34 and len(summary["subsets"]) == 34
    assert records[0].subset == "adjunct_island" and records[0].positive_text.startswith("Who should Derek hug")
    assert {r.voice for r in records} == {"espeak-ng:en-us+m3", "espeak-ng:en-gb+f2"}


def test_evs_tstorycloze_and_salmon_pairs(tmp_path):
    _build("tstorycloze", tmp_path / "t", "num_items=3")
    for record in read_manifest(tmp_path / "t"):
        context = record.positive_text[: len(record.positive_text) - len(record.positive_text.split(". ")[-1])]
        assert record.negative_text.startswith(context) and record.positive_text != record.negative_text
    summary = _build("salmon", tmp_path / "s", "items_per_task=2")
    records = read_manifest(tmp_path / "s")
    assert summary["subsets"] == {"background": 2, "speaker": 2}
    speaker = [r for r in records if r.subset == "speaker"]
    assert all(r.meta["switch"] != r.voice for r in speaker)
    background = [r for r in records if r.subset == "background"]
    assert all(a != b for a, b in (r.meta["switch"].split("->") for r in background))
    assert audio_info(tmp_path / "s" / background[0].positive)[0] == 16000


def test_evs_bad_config_is_a_one_line_error(tmp_path):
    with pytest.raises(SpokenLMError, match="sblimp needs blimp="):
        _build("sblimp", tmp_path / "x")
    with pytest.raises(SpokenLMError, match="no BLiMP .jsonl files"):
        _build("sblimp", tmp_path / "y", f"blimp={tmp_path}")
