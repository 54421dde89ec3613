"""Tokens (deduplication, stream specs) and resumable memory-mapped token shards (stream specs in meta.json, old shards)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from spokenlm.data.shards import ShardReader, ShardWriter, open_token_corpus
from spokenlm.errors import SpokenLMError
from spokenlm.layouts import codebook_streams, semantic_streams
from spokenlm.tokens import Tokens


def test_dedup_by_hand() -> None:
    tokens = Tokens(np.array([5, 5, 5, 2, 2, 7, 5, 5]), frame_rate=50.0, tokenizer="t")
    dedup = tokens.deduplicated()
    np.testing.assert_array_equal(dedup.ids, [[5, 2, 7, 5]])
    np.testing.assert_array_equal(dedup.durations, [3, 2, 1, 2])
    assert dedup.duration_seconds == tokens.duration_seconds == 8 / 50
    np.testing.assert_array_equal(dedup.expanded().ids, tokens.ids)


def test_multistream_dedup_needs_all_streams_equal() -> None:
    tokens = Tokens(np.array([[1, 1, 1], [4, 4, 5]]), frame_rate=12.5)
    dedup = tokens.deduplicated()
    np.testing.assert_array_equal(dedup.ids, [[1, 1], [4, 5]])
    np.testing.assert_array_equal(dedup.durations, [2, 1])


def test_shard_round_trip_and_resume_repairs_torn_tail(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    items = {f"utt{i}": Tokens(rng.integers(0, 100, size=(2, 5 + i)), 50.0, "x") for i in range(5)}
    shard = tmp_path / "shard-00000"
    with ShardWriter(shard, "x", 50.0, 100, num_streams=2) as writer:
        for key in list(items)[:3]:
            writer.add(key, items[key])
    # Simulate a writer killed mid-item: bytes appended, index line torn.
    with open(shard / "ids.bin", "ab") as handle:
        handle.write(b"\x01\x02\x03")
    with open(shard / "index.jsonl", "a") as handle:
        handle.write('{"id": "utt3", "off')
    with ShardWriter(shard, "x", 50.0, 100, num_streams=2) as writer:
        assert writer.done == {"utt0", "utt1", "utt2"}
        for key in list(items)[3:]:
            writer.add(key, items[key])
    reader = ShardReader(shard)
    assert reader.ids() == list(items)
    for key, tokens in reader:
        np.testing.assert_array_equal(tokens.ids, items[key].ids)
    assert os.path.getsize(shard / "ids.bin") == sum(t.ids.size for t in items.values()) * 4
    assert [json.loads(line)["id"] for line in (shard / "index.jsonl").read_text().splitlines()] == list(items)


def test_corpus_rejects_mismatched_shards(tmp_path: Path) -> None:
    ShardWriter(tmp_path / "shard-00000", "a", 50.0, 100).close()
    ShardWriter(tmp_path / "shard-00001", "b", 50.0, 100).close()
    with pytest.raises(SpokenLMError, match="disagree"):
        open_token_corpus(tmp_path)
    with pytest.raises(SpokenLMError, match="was written with"):
        ShardWriter(tmp_path / "shard-00000", "a", 25.0, 100)


def test_tokens_carry_stream_specs() -> None:
    tokens = Tokens(np.array([[1, 1, 2], [3, 3, 4]]), 12.5)
    assert [(s.role, s.vocab_size, s.codebook, s.frame_rate) for s in tokens.streams] == [("semantic", 0, 0, 12.5), ("semantic", 0, 1, 12.5)]
    mixed = codebook_streams(2, 64, 12.5, semantic=1)
    tokens = Tokens(np.array([[1, 1, 2], [3, 3, 4]]), 12.5, "mixed", streams=mixed)
    assert tokens.deduplicated().streams == tokens.deduplicated().expanded().streams == mixed
    with pytest.raises(SpokenLMError, match="2 streams but 1 stream specs"):
        Tokens(np.zeros((2, 3)), 12.5, streams=mixed[:1])
    with pytest.raises(SpokenLMError, match=r"stream specs at \[12.5\] Hz for tokens at 50.0 Hz"):
        Tokens(np.zeros((2, 3)), 50.0, streams=mixed)


def test_shard_stores_stream_specs_and_resumes(tmp_path: Path) -> None:
    specs = codebook_streams(3, 64, 12.5, semantic=1)
    shard = tmp_path / "shard-00000"
    with ShardWriter(shard, "mixed", 12.5, 64, num_streams=3, streams=specs) as writer:
        writer.add("a", Tokens(np.arange(12).reshape(3, 4), 12.5))
    assert json.loads((shard / "meta.json").read_text())["streams"] == [s.to_dict() for s in specs]
    with ShardWriter(shard, "mixed", 12.5, 64, num_streams=3, streams=specs) as writer:
        writer.add("b", Tokens(np.zeros((3, 2)), 12.5))
    reader = ShardReader(shard)
    assert reader.streams == specs and reader["a"].streams == specs and len(reader) == 2
    with pytest.raises(SpokenLMError, match="was written with"):
        ShardWriter(shard, "mixed", 12.5, 64, num_streams=3, streams=codebook_streams(3, 64, 12.5))
    with pytest.raises(SpokenLMError, match="need 3 stream specs at 12.5 Hz"):
        ShardWriter(tmp_path / "other", "mixed", 12.5, 64, num_streams=3, streams=specs[:2])


def test_shard_written_before_stream_specs_reads_as_semantic_streams(tmp_path: Path) -> None:
    """An old-style shard, written by hand: meta.json without "streams"."""
    shard = tmp_path / "old" / "shard-00000"
    shard.mkdir(parents=True)
    old_meta = {"tokenizer": "mfcc-km32", "frame_rate": 50.0, "vocab_size": 32, "num_streams": 2}
    (shard / "meta.json").write_text(json.dumps(old_meta))
    np.array([[3, 4, 5], [6, 7, 8]], dtype=np.int32).tofile(shard / "ids.bin")
    np.zeros(3, dtype=np.int32).tofile(shard / "durations.bin")
    (shard / "index.jsonl").write_text(json.dumps({"id": "u", "offset": 0, "length": 3, "has_durations": False}) + "\n")
    (reader,) = open_token_corpus(tmp_path / "old")
    assert reader.streams == semantic_streams(2, 32, 50.0) and [s.codebook for s in reader.streams] == [0, 1]
    assert reader["u"].streams == reader.streams and reader["u"].ids.tolist() == [[3, 4, 5], [6, 7, 8]]
    with ShardWriter(shard, "mfcc-km32", 50.0, 32, num_streams=2) as writer:  # resumes; the old meta stays as it was
        assert writer.done == {"u"}
        writer.add("v", Tokens(np.ones((2, 2)), 50.0))
    assert json.loads((shard / "meta.json").read_text()) == old_meta
    assert ShardReader(shard)["v"].ids.tolist() == [[1, 1], [1, 1]]
