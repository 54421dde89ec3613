"""``spokenlm data import``: FSDD, LJSpeech (lhotse recipe), audio + .txt pairs, JSONL; VAD for long files; bad files skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from spokenlm.audio.io import load_audio, save_audio
from spokenlm.audio.vad import VadConfig, speech_segments
from spokenlm.cli.main import app
from spokenlm.data.check import check_corpus
from spokenlm.data.importer import ImportConfig, import_corpus
from spokenlm.data.manifests import load_corpus
from spokenlm.errors import ManifestError
from helpers.paths import ASSETS

DATA = ASSETS


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
def test_fsdd_speakers_from_names_and_digit_words_as_text(tmp_path):
    result = CliRunner().invoke(app, ["data", "import", "fsdd", str(DATA / "fsdd"), str(tmp_path), "test_speakers=[george]"])
    assert result.exit_code == 0, result.output
    sups = {s.id: s for s in load_corpus(tmp_path).supervisions}
    assert len(sups) == 300
    assert (sups["7_jackson_3"].text, sups["7_jackson_3"].speaker, sups["7_jackson_3"].custom["split"]) == ("seven", "jackson", "train")
    assert sups["0_george_1"].custom["split"] == "test"
    assert len({s.speaker for s in sups.values()}) == 6
    assert check_corpus(tmp_path, require_text=True).ok


def test_ljspeech_through_the_lhotse_recipe(tmp_path):
    corpus = tmp_path / "LJSpeech-1.1"
    (corpus / "wavs").mkdir(parents=True)
    lines = (DATA / "ljspeech" / "metadata.csv").read_text().splitlines()[:4]
    (corpus / "metadata.csv").write_text("\n".join(lines) + "\n")
    for line in lines:
        utt = line.split("|")[0]
        wav, sr = load_audio(DATA / "ljspeech" / f"{utt}.flac", None)
        save_audio(corpus / "wavs" / f"{utt}.wav", wav, sr)
    out = tmp_path / "out"
    result = import_corpus(ImportConfig(kind="lhotse:ljspeech"), corpus, out)
    assert not result.skipped and result.stats.utterances == {"train": 4}
    sups = {s.id: s for s in load_corpus(out).supervisions}
    assert sups["LJ001-0002"].text == "in being comparatively modern."
    assert check_corpus(out, require_text=True).ok
    with pytest.raises(ManifestError, match="no recipe 'nope'.*librispeech"):
        import_corpus(ImportConfig(kind="lhotse:nope"), corpus, tmp_path / "x")


def _long_file(path: Path, gap_s: float = 1.5) -> list[tuple[float, float]]:
    """Four real Harvard-sentence clips with ``gap_s`` of silence around each; returns each clip's (start_s, end_s)."""
    sr = 16000
    pieces, spans, t = [np.zeros(int(gap_s * sr), np.float32)], [], gap_s
    for name in ("spk1_snt1", "spk2_snt2", "spk1_snt3", "spk2_snt4"):
        wav, _ = load_audio(DATA / "speechbrain" / "ASR" / f"{name}.wav", sr)
        pieces += [wav, np.zeros(int(gap_s * sr), np.float32)]
        spans.append((t, t + wav.size / sr))
        t += wav.size / sr + gap_s
    save_audio(path, np.concatenate(pieces), sr)
    return spans


def test_vad_finds_each_clip_in_a_long_file(tmp_path):
    spans = _long_file(tmp_path / "long.wav")
    wav, sr = load_audio(tmp_path / "long.wav", 16000)
    found = speech_segments(wav, sr, VadConfig(min_silence_s=0.8))
    assert len(found) == len(spans)
    for (start, end), (clip_start, clip_end) in zip(found, spans):
        assert clip_start - 0.3 < start < clip_start + 0.5 and clip_end - 0.5 < end < clip_end + 0.3
    with pytest.raises(ValueError, match="16000 Hz"):
        speech_segments(wav, 8000)


def test_long_recording_is_cut_into_utterances(tmp_path):
    source = tmp_path / "source" / "reader"
    source.mkdir(parents=True)
    spans = _long_file(source / "chapter.wav")
    (source / "chapter.txt").write_text("a chapter transcript that cannot be split by time")
    out = tmp_path / "out"
    result = import_corpus(ImportConfig(kind="pairs", long_recording_s=10.0, vad=VadConfig(min_silence_s=0.8)), tmp_path / "source", out)
    corpus = load_corpus(out)
    (recording,) = list(corpus.recordings)
    sups = sorted(corpus.supervisions, key=lambda s: s.start)
    assert [s.id for s in sups] == [f"reader_chapter-{k:04d}" for k in range(4)]
    assert all(s.recording_id == recording.id and s.text is None and s.speaker == "reader" for s in sups)
    assert [c.duration for c in corpus.cuts] == pytest.approx([s.duration for s in sups])
    assert abs(sups[2].start - spans[2][0]) < 0.5
    assert not result.skipped and check_corpus(out).ok


def test_bad_files_are_reported_skipped_and_counted(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("spk1_snt1", "spk1_snt2"):
        shutil.copy(DATA / "speechbrain" / "ASR" / f"{name}.wav", source / f"{name}.wav")
        (source / f"{name}.txt").write_text("a harvard sentence")
    (source / "corrupt.wav").write_bytes(b"RIFF not really a wave file")
    sf.write(source / "empty.wav", np.zeros(0, np.float32), 16000)
    sf.write(source / "silent.wav", np.zeros(16000, np.float32), 16000)
    sf.write(source / "nan.wav", np.full(16000, np.nan, np.float32), 16000, subtype="FLOAT")
    sf.write(source / "short.wav", np.full(80, 0.5, np.float32), 16000)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["data", "import", "pairs", str(source), str(out)])
    assert result.exit_code == 0, result.output
    text = _flat(result.output)
    assert "5 entries skipped" in text
    for name, reason in (("corrupt", "unreadable"), ("empty", "empty"), ("silent", "silent"), ("nan", "non-finite"), ("short", "too-short")):
        assert f"{name}.wav: {reason}" in text
    assert {s.id for s in load_corpus(out).supervisions} == {"spk1_snt1", "spk1_snt2"}


def test_jsonl_list_with_broken_lines(tmp_path):
    shutil.copy(DATA / "jfk.flac", tmp_path / "jfk.flac")
    lines = [
        json.dumps({"path": "jfk.flac", "text": "and so my fellow americans", "speaker": "jfk"}),
        "{broken",
        json.dumps({"text": "no audio"}),
        json.dumps({"path": "missing.flac", "text": "x"}),
    ]
    (tmp_path / "list.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = import_corpus(ImportConfig(kind="jsonl"), tmp_path / "list.jsonl", out)
    assert len(result.skipped) == 3
    assert result.skipped[0].startswith(f"{tmp_path / 'list.jsonl'}:2: not JSON")
    assert "no 'path'" in result.skipped[1] and "missing.flac: missing" in result.skipped[2]
    (sup,) = list(load_corpus(out).supervisions)
    assert (sup.id, sup.speaker, sup.text) == ("jfk", "jfk", "and so my fellow americans")
    assert sup.duration == pytest.approx(11.0, abs=0.1)
