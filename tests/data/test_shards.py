"""Tokens deduplication and resumable memory-mapped token shards."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from spokenlm.data.shards import ShardReader, ShardWriter, open_token_corpus
from spokenlm.errors import SpokenLMError
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
