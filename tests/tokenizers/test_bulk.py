"""Bulk tokenization keeps the tokenizer's stream specs: in windowed tokens and in the shards' meta.json."""

from __future__ import annotations

from pathlib import Path

from lhotse import CutSet, Recording, RecordingSet

from spokenlm.data.shards import open_token_corpus
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.tokenizers.bulk import TokenizeConfig, tokenize_shard

from helpers.paths import ASSETS, REPO


def test_tokenized_shards_carry_the_mixed_codecs_stream_specs(tmp_path: Path) -> None:
    clips = sorted((ASSETS / "speechbrain" / "ASR").glob("spk1_snt[12].wav"))
    manifest = tmp_path / "cuts.jsonl.gz"
    CutSet.from_manifests(recordings=RecordingSet.from_recordings(Recording.from_file(c) for c in clips)).to_file(manifest)
    folder = REPO / "tests" / "golden" / "checkpoints" / "mixed"
    config = TokenizeConfig(manifest=str(manifest), tokenizer=str(folder), out=str(tmp_path / "tokens"), window_seconds=1.0, device="cpu")
    assert tokenize_shard(config, 0, 1, set()).written == 2
    (reader,) = open_token_corpus(tmp_path / "tokens")
    tokenizer = load_tokenizer(folder)
    assert reader.streams == tokenizer.streams and [s.role for s in reader.streams] == ["semantic"] + ["acoustic"] * 3
    for _, tokens in reader:  # several 1 s windows, concatenated
        assert tokens.streams == tokenizer.streams and len(tokens) > tokenizer.frame_rate
