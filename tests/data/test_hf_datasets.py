"""``spokenlm data import hf``: a dataset made here with HF ``datasets`` (save_to_disk and parquet), real speech."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from spokenlm.audio.io import load_audio
from spokenlm.cli import app
from spokenlm.data.manifests import load_corpus

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def dataset_dict(fsdd_clips):
    """Six FSDD clips (FLAC bytes) with text and speaker: train and validation splits, plus one broken row."""
    clips = [p for p in fsdd_clips if p.stem.endswith("_0")][:6]
    rows = {"audio": [{"bytes": p.read_bytes(), "path": p.name} for p in clips],
            "transcription": [f"digit {p.stem[0]}" for p in clips], "speaker": [p.stem.split("_")[1] for p in clips]}
    broken = {"audio": [{"bytes": b"not audio at all", "path": "x.wav"}], "transcription": ["broken"], "speaker": ["nobody"]}
    splits = {"train": {k: v[:4] for k, v in rows.items()}, "validation": {k: v[4:] + broken[k] for k, v in rows.items()}}
    # Audio's storage ({bytes, path}) cast to Audio: datasets encodes Audio values only with torchcodec, casting needs none
    dataset = datasets.DatasetDict({name: datasets.Dataset.from_dict(split).cast_column("audio", datasets.Audio(decode=False))
                                    for name, split in splits.items()})
    assert isinstance(dataset["train"].features["audio"], datasets.Audio)
    return dataset, clips


def _import(source, out):
    return CliRunner().invoke(app, ["data", "import", "hf", str(source), str(out), "hf.text=transcription", "workers=1"])


def test_hf_save_to_disk_imports_splits_text_speakers_and_reports_bad_rows(tmp_path, dataset_dict):
    dataset, clips = dataset_dict
    dataset.save_to_disk(str(tmp_path / "saved"))
    result = _import(tmp_path / "saved", tmp_path / "corpus")
    assert result.exit_code == 0, result.output
    assert "(splitvalidation,row2):unreadableaudio(Formatnotrecognised.)" in "".join(result.output.split())
    corpus = load_corpus(tmp_path / "corpus")
    sups = {s.id: s for s in corpus.supervisions}
    assert sorted(sups) == ["train-000000", "train-000001", "train-000002", "train-000003", "validation-000000", "validation-000001"]
    first = sups["train-000000"]
    assert (first.text, first.speaker, first.custom["split"]) == (f"digit {clips[0].stem[0]}", clips[0].stem.split("_")[1], "train")
    assert sups["validation-000000"].custom["split"] == "dev"
    recording = next(r for r in corpus.recordings if r.id == "train-000000")
    np.testing.assert_allclose(recording.load_audio()[0], load_audio(clips[0], None)[0], atol=1e-4)  # FLAC bytes decoded as-is


def test_hf_parquet_files_import_like_the_hub_layout(tmp_path, dataset_dict):
    dataset, _ = dataset_dict
    (tmp_path / "hub" / "data").mkdir(parents=True)
    dataset["train"].to_parquet(str(tmp_path / "hub" / "data" / "train-00000-of-00001.parquet"))
    result = _import(tmp_path / "hub", tmp_path / "corpus")
    assert result.exit_code == 0, result.output
    assert len(load_corpus(tmp_path / "corpus").supervisions) == 4


def test_hf_import_errors_name_the_folder_and_column(tmp_path, dataset_dict):
    dataset, _ = dataset_dict
    dataset["train"].save_to_disk(str(tmp_path / "saved"))
    result = CliRunner().invoke(app, ["data", "import", "hf", str(tmp_path / "saved"), str(tmp_path / "c"), "hf.audio=speech"])
    assert result.exit_code == 2 and "has no audio column 'speech'" in " ".join(result.output.split())
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["data", "import", "hf", str(tmp_path / "empty"), str(tmp_path / "d")])
    assert result.exit_code == 2 and "neither a save_to_disk folder nor parquet files" in " ".join(result.output.split())
