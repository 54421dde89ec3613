"""``spokenlm train-tokenizer`` and ``spokenlm tokenize``: recipes, bad files skipped, resume, workers, windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from typer.testing import CliRunner

from spokenlm.cli import app
from spokenlm.data.shards import open_token_corpus
from spokenlm.tokenizers import load_tokenizer
from spokenlm.tokenizers.bulk import encode_windowed
from helpers.paths import ASSETS, REPO

DATA = ASSETS
runner = CliRunner()


def _recording(path: Path, rid: str, sr: int = 16000, samples: int = 16000):
    from lhotse import Recording
    from lhotse.audio import AudioSource

    return Recording(id=rid, sources=[AudioSource(type="file", channels=[0], source=str(path))], sampling_rate=sr,
                     num_samples=samples, duration=samples / sr)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """8 FSDD clips, 1 LJSpeech sentence, and 4 bad entries: missing, corrupt, silent, NaN."""
    from lhotse import CutSet, Recording, RecordingSet, SupervisionSegment, SupervisionSet

    folder = tmp_path_factory.mktemp("manifest")
    good = [Recording.from_file(p) for p in sorted(DATA.glob("fsdd/[0-7]_jackson_1.flac"))]
    good.append(Recording.from_file(DATA / "ljspeech" / "LJ001-0001.flac"))
    (folder / "corrupt.flac").write_bytes(b"not audio at all" * 100)
    sf.write(folder / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    sf.write(folder / "nan.wav", np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    bad = [
        _recording(folder / "missing.flac", "missing"),
        _recording(folder / "corrupt.flac", "corrupt"),
        Recording.from_file(folder / "silent.wav"),
        Recording.from_file(folder / "nan.wav"),
    ]
    recordings = RecordingSet.from_recordings(good + bad)
    supervisions = SupervisionSet.from_segments(
        [SupervisionSegment(id=r.id, recording_id=r.id, start=0.0, duration=r.duration) for r in good]
    )
    path = folder / "cuts.jsonl.gz"
    CutSet.from_manifests(recordings=recordings, supervisions=supervisions).to_file(path)
    return path


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tok") / "mfcc-km16"
    result = runner.invoke(app, [
        "train-tokenizer", "--config", str(REPO / "recipes" / "tokenizer-mfcc-km.yaml"), "--out", str(out),
        f"data.audio=['{DATA}/fsdd/*_george_0.flac']", "kmeans.k=16", "kmeans.algorithm=full", "name=mfcc-km16",
    ])
    assert result.exit_code == 0, result.output
    return out


def test_tok_cli_train_tokenizer_writes_resolved_recipe(tokenizer_dir):
    recipe = yaml.safe_load((tokenizer_dir / "recipe.yaml").read_text())
    assert recipe["type"] == "kmeans" and recipe["kmeans"]["k"] == 16 and recipe["name"] == "mfcc-km16"
    tokenizer = load_tokenizer(tokenizer_dir)
    assert tokenizer.vocab_size == 16 and tokenizer.name == "mfcc-km16"


def test_tok_cli_train_tokenizer_unknown_type_is_one_line(tmp_path):
    result = runner.invoke(app, ["train-tokenizer", "--out", str(tmp_path / "x"), "type=nope"])
    assert result.exit_code == 2 and "unknown tokenizer recipe type 'nope'" in result.output and "kmeans" in result.output


def test_tok_cli_tokenize_skips_bad_files_and_resumes(manifest, tokenizer_dir, tmp_path):
    out = tmp_path / "tokens"
    args = ["tokenize", str(manifest), "--tokenizer", str(tokenizer_dir), "--out", str(out), "window_seconds=4"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "tokenized 9 cut(s), 0 already done, skipped 4 bad file(s)" in " ".join(result.output.split())
    skipped = (out / "skipped.jsonl").read_text()
    for reason in ("missing.flac): missing", "corrupt.flac): unreadable", "silent.wav): silent", "nan.wav): non-finite"):
        assert reason in skipped
    (reader,) = open_token_corpus(out)
    assert len(reader) == 9 and reader.meta["tokenizer"] == "mfcc-km16"
    assert yaml.safe_load((out / "tokenize.yaml").read_text())["window_seconds"] == 4
    # the 9.7 s sentence was tokenized in 4 s windows: its frames cover the whole clip
    (sentence,) = [i for i in reader.ids() if i.startswith("LJ001-0001")]
    assert reader[sentence].durations.sum() == pytest.approx(9.66 * 50, abs=4)
    again = runner.invoke(app, args)
    assert "tokenized 0 cut(s), 9 already done, skipped 4" in " ".join(again.output.split())
    assert len(open_token_corpus(out)[0]) == 9


@pytest.mark.slow
def test_tok_cli_tokenize_workers_match_single_process(manifest, tokenizer_dir, tmp_path):
    single, parallel = tmp_path / "one", tmp_path / "two"
    for out, workers in ((single, "1"), (parallel, "2")):
        result = runner.invoke(app, ["tokenize", str(manifest), "-t", str(tokenizer_dir), "-o", str(out), "-j", workers])
        assert result.exit_code == 0, result.output
    readers = open_token_corpus(parallel)
    assert len(readers) == 2 and sum(len(r) for r in readers) == 9
    (reference,) = open_token_corpus(single)
    for reader in readers:
        for item_id, tokens in reader:
            assert np.array_equal(tokens.ids, reference[item_id].ids)


def test_tok_encode_windowed_concatenates(tokenizer_dir, lj_wav):
    tokenizer = load_tokenizer(tokenizer_dir)
    whole = encode_windowed(tokenizer, lj_wav, 60.0)
    windowed = encode_windowed(tokenizer, lj_wav, 2.0)
    frames = sum(1 + min(32000, lj_wav.size - s) // 320 for s in range(0, lj_wav.size, 32000))
    assert windowed.durations.sum() == frames and whole.durations.sum() == 1 + lj_wav.size // 320


def test_tok_tokenize_ranks_under_torchrun_env(manifest, tokenizer_dir, tmp_path, monkeypatch):
    from spokenlm.tokenizers.bulk import TokenizeConfig, run_tokenize

    config = TokenizeConfig(manifest=str(manifest), tokenizer=str(tokenizer_dir), out=str(tmp_path / "ranks"))
    monkeypatch.setenv("WORLD_SIZE", "2")
    summaries = []
    for rank in ("0", "1"):
        monkeypatch.setenv("RANK", rank)
        summaries.append(run_tokenize(config))
    assert sum(s.written for s in summaries) == 9 and sum(len(s.skipped) for s in summaries) == 4
    assert sorted(p.name for p in (tmp_path / "ranks").glob("skipped-rank*.jsonl")) == ["skipped-rank0.jsonl", "skipped-rank1.jsonl"]
    assert [len(r) for r in open_token_corpus(tmp_path / "ranks")] == [5, 4]
