"""Pair runner: hand-made scorers with known answers, tokenization of real audio, bad input, phone topline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.eval_toys import EnergyTokenizer, UnigramScorer

from spokenlm.audio.io import load_audio, save_audio
from spokenlm.benchmarks.manifest import PairRecord, read_manifest, write_manifest
from spokenlm.errors import ManifestError
from spokenlm.eval.pairs import PairEvalConfig, evaluate_pairs, phone_topline, score_pairs, summarize


def test_evs_accuracy_with_a_known_answer():
    scorer = UnigramScorer([0.7, 0.2, 0.1])
    items = [
        ("right", "a", np.array([0, 0]), np.array([2, 2])),  # positive likelier -> 1
        ("wrong", "a", np.array([2]), np.array([0])),  # negative likelier -> 0
        ("tie", "b", np.array([1, 0]), np.array([0, 1])),  # same units -> 0.5
        # summed favours the short negative, per-token favours the positive
        ("length", "b", np.array([0] * 6), np.array([1])),
    ]
    scores = score_pairs(scorer, items, batch_size=2)
    assert scorer.calls == 1 and [s.outcome(False) for s in scores] == [1.0, 0.0, 0.5, 0.0]
    assert [s.outcome(True) for s in scores] == [1.0, 0.0, 0.5, 1.0]
    summary = summarize(scores)
    assert summary["summed"]["value"] == pytest.approx(1.5 / 4)
    assert summary["normalized"]["value"] == pytest.approx(2.5 / 4)
    assert summary["subsets"]["b"]["pairs"] == 2 and summary["subsets"]["b"]["summed"]["value"] == 0.25
    assert summary["summed"]["low"] < summary["summed"]["value"] < summary["summed"]["high"]
    boot = summarize(scores, interval="bootstrap")
    assert boot["normalized"]["value"] == summary["normalized"]["value"] and boot["interval"] == "bootstrap"


def _benchmark(tmp_path, ljspeech_clips, n=4):
    records = []
    for i in range(n):
        wav, sr = load_audio(ljspeech_clips[i], 16000)
        quiet = wav * 0.05
        save_audio(tmp_path / f"audio/{i}_pos.flac", wav, sr)
        save_audio(tmp_path / f"audio/{i}_neg.flac", quiet, sr)
        records.append(PairRecord(f"p{i}", "loud" if i % 2 else "soft", "lj", f"audio/{i}_pos.flac", f"audio/{i}_neg.flac"))
    write_manifest(tmp_path / "pairs.jsonl", records)
    return records


def test_evs_evaluate_pairs_on_real_audio_skips_bad_files(tmp_path, ljspeech_clips):
    _benchmark(tmp_path, ljspeech_clips)
    (tmp_path / "audio/3_neg.flac").write_bytes(b"not audio")
    # loud frames (high buckets) are likelier: the louder positive must win every intact pair
    scorer = UnigramScorer(np.linspace(0.01, 0.24, 8) / np.linspace(0.01, 0.24, 8).sum())
    config = PairEvalConfig(benchmark=str(tmp_path), dedup=False)
    results = evaluate_pairs(config, scorer, EnergyTokenizer(), tmp_path / "out")
    assert results["pairs"] == 3 and results["skipped"] == 1
    assert "3_neg.flac" in results["skipped_reasons"]["p3"] and "unreadable" in results["skipped_reasons"]["p3"]
    assert results["normalized"]["value"] == 1.0
    assert "topline" not in results
    saved = json.loads((tmp_path / "out/results.json").read_text())
    assert saved["normalized"] == results["normalized"]
    assert len((tmp_path / "out/scores.jsonl").read_text().splitlines()) == 3


def test_evs_broken_manifest_errors_name_file_and_line(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"pair_id": "a", "subset": "s", "voice": "v", "positive": "x", "negative": "y"}\n{oops\n')
    with pytest.raises(ManifestError, match=r"pairs.jsonl:2: not valid JSON"):
        read_manifest(path)
    path.write_text('{"pair_id": "a"}\n')
    with pytest.raises(ManifestError, match=r"pairs.jsonl:1: missing key\(s\) subset, voice, positive, negative"):
        read_manifest(path)
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "nowhere")


def test_evs_phone_topline_prefers_real_words():
    sentences = ["the cat sat on the mat", "a black cat and a brown dog", "the dog ate the cat food"] * 3
    records = [
        PairRecord("1", "1-syllable", "v", "a", "b", "cat", "", ["K", "AE1", "T"], ["NG", "AE1", "ZH"]),
        PairRecord("2", "1-syllable", "v", "a", "b", "dog", "", ["D", "AO1", "G"], ["ZH", "AO1", "NG"]),
    ]
    top = phone_topline(records, sentences, order=3)
    assert top["pairs"] == 2 and top["summed"]["value"] == 1.0
    with pytest.raises(Exception, match="no pair carries phones"):
        phone_topline([PairRecord("x", "s", "v", "a", "b")], sentences)
