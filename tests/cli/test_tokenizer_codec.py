"""End to end through the CLI: `spokenlm train-tokenizer` with the codec recipe, then `spokenlm tokenize` into shards."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from spokenlm.cli.main import app
from helpers.paths import REPO

TINY = ["model.channels=4", "model.dimension=16", "model.num_codebooks=3", "model.codebook_size=16", "segment_seconds=0.32", "batch_size=2", "steps=2"]


@pytest.mark.slow
def test_train_tokenizer_then_tokenize_a_corpus(tmp_path: Path, data_dir: Path) -> None:
    runner = CliRunner()
    audio = f"data.audio=['{data_dir}/ljspeech/LJ001-000[1-2].flac']"
    result = runner.invoke(app, ["train-tokenizer", "-c", str(REPO / "recipes" / "tokenizer-codec-tiny.yaml"), "-o", str(tmp_path / "codec"), *TINY, audio])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "codec" / "config.yaml").is_file() and (tmp_path / "codec" / "model.safetensors").is_file()

    result = runner.invoke(app, ["data", "import", "pairs", str(data_dir / "librivox"), str(tmp_path / "corpus")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["tokenize", str(tmp_path / "corpus" / "cuts.jsonl.gz"), "-t", str(tmp_path / "codec"), "-o", str(tmp_path / "tokens")])
    assert result.exit_code == 0, result.output

    from spokenlm.data.shards import open_token_corpus
    from spokenlm.tokenizers.base import load_tokenizer

    readers = open_token_corpus(tmp_path / "tokens")
    ids = [i for reader in readers for i in reader.ids()]
    assert len(ids) == 5
    tokens = readers[0][ids[0]]
    assert tokens.num_streams == 3 and tokens.frame_rate == 50.0
    audio_out = load_tokenizer(tmp_path / "codec").decode(tokens)
    assert audio_out.shape == (len(tokens) * 320,) and np.isfinite(audio_out).all()


def test_bad_recipe_type_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train-tokenizer", "-c", str(REPO / "recipes" / "tokenizer-codec-tiny.yaml"), "-o", str(tmp_path), "model.num_codebooks=zero"])
    assert result.exit_code == 2
    assert "model.num_codebooks" in result.output
