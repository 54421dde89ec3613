"""Token shards: memory-mapped files of ``Tokens`` indexed by cut id.

A shard is a folder::

    meta.json        {"tokenizer", "frame_rate", "vocab_size", "num_streams", "streams": [one StreamSpec dict per stream]}
    ids.bin          int32, every item's ``ids`` [K, T] flattened row-major, back to back
    durations.bin    int32, every item's durations [T] (zeros when it has none)
    index.jsonl      one line per finished item: {"id", "offset", "length", "has_durations"}

``offset`` counts frames (T units), so an item's ids sit at ``[K*offset, K*(offset+length))``.
Writes are append-only and the index line is written last, so a killed writer
leaves at most a tail that :class:`ShardWriter` truncates on reopening (resume).
A token corpus is a folder of shards (``shard-00000/``, ``shard-00001/`` … one per worker or rank).

Shards written before stream specs existed have no ``"streams"`` key: they read as K semantic streams
of the shard's vocabulary (codebook = row), and resume without their ``meta.json`` being rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from spokenlm.atomic import atomic_write_json
from spokenlm.errors import ConfigError, SpokenLMError
from spokenlm.layouts.spec import StreamSpec, semantic_streams
from spokenlm.tokens import Tokens

_IDS = "ids.bin"
_DURS = "durations.bin"
_INDEX = "index.jsonl"
_META = "meta.json"
_DTYPE = np.int32
_ITEM = np.dtype(_DTYPE).itemsize


def _read_index(path: Path) -> list[dict]:
    """Parse ``index.jsonl``; a torn last line (killed writer) is ignored."""
    entries = []
    if not path.exists():
        return entries
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return entries


class ShardWriter:
    """Append ``Tokens`` to one shard folder; reopening resumes after the last finished item.

    Args:
        directory: the shard folder.
        tokenizer: name stored in ``meta.json``.
        frame_rate: Hz, stored in ``meta.json``.
        vocab_size: number of token ids per stream.
        num_streams: K.
        streams: the K stream specs (``SpeechTokenizer.streams``); by default K semantic streams of
            ``vocab_size`` at ``frame_rate``. They describe every item: an item's own ``Tokens.streams`` are not stored.
    """

    def __init__(self, directory: str | Path, tokenizer: str, frame_rate: float, vocab_size: int, num_streams: int = 1,
                 streams: Sequence[StreamSpec] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        streams = tuple(streams) if streams is not None else semantic_streams(num_streams, vocab_size, frame_rate)
        if len(streams) != num_streams or any(spec.frame_rate != frame_rate for spec in streams):
            raise SpokenLMError(f"{self.directory}: need {num_streams} stream specs at {frame_rate} Hz, "
                                f"got {len(streams)} at {sorted({spec.frame_rate for spec in streams})} Hz")
        self.meta = {"tokenizer": tokenizer, "frame_rate": frame_rate, "vocab_size": vocab_size, "num_streams": num_streams,
                     "streams": [spec.to_dict() for spec in streams]}
        meta_path = self.directory / _META
        if meta_path.exists():
            old = json.loads(meta_path.read_text())
            mine = self.meta if "streams" in old else {key: value for key, value in self.meta.items() if key != "streams"}
            if old != mine:
                raise SpokenLMError(f"{self.directory}: shard was written with {old}, not {mine}")
        else:
            atomic_write_json(meta_path, self.meta)
        entries = _read_index(self.directory / _INDEX)
        self.done: set[str] = {e["id"] for e in entries}
        self.frames = entries[-1]["offset"] + entries[-1]["length"] if entries else 0
        # Repair: drop bytes written after the last indexed item, and any torn index line.
        with open(self.directory / _INDEX, "w") as handle:
            handle.writelines(json.dumps(e) + "\n" for e in entries)
        for name, width in ((_IDS, num_streams), (_DURS, 1)):
            path = self.directory / name
            with open(path, "ab"):
                pass
            os.truncate(path, self.frames * width * _ITEM)
        self._ids = open(self.directory / _IDS, "ab")
        self._durs = open(self.directory / _DURS, "ab")
        self._index = open(self.directory / _INDEX, "a")

    def __contains__(self, item_id: str) -> bool:
        return item_id in self.done

    def add(self, item_id: str, tokens: Tokens) -> None:
        """Append one item; ``tokens.ids`` must be ``[K, T]`` with this shard's K."""
        if item_id in self.done:
            raise SpokenLMError(f"{self.directory}: duplicate item id {item_id!r}")
        if tokens.num_streams != self.meta["num_streams"]:
            raise SpokenLMError(f"{item_id}: {tokens.num_streams} streams, shard has {self.meta['num_streams']}")
        length = len(tokens)
        self._ids.write(np.ascontiguousarray(tokens.ids, dtype=_DTYPE).tobytes())
        durations = tokens.durations if tokens.durations is not None else np.zeros(length, dtype=_DTYPE)
        self._durs.write(np.asarray(durations, dtype=_DTYPE).tobytes())
        self._ids.flush()
        self._durs.flush()
        entry = {"id": item_id, "offset": self.frames, "length": length, "has_durations": tokens.durations is not None}
        self._index.write(json.dumps(entry) + "\n")
        self._index.flush()
        self.frames += length
        self.done.add(item_id)

    def close(self) -> None:
        for handle in (self._ids, self._durs, self._index):
            handle.close()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ShardReader:
    """Random access to one shard through memory maps (corpora larger than RAM stream from disk).

    Attributes:
        meta: the shard's ``meta.json`` (with ``"streams"`` filled in for a shard written before stream specs).
        streams: the K stream specs of every item.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        meta_path = self.directory / _META
        if not meta_path.exists():
            raise SpokenLMError(f"{self.directory}: not a token shard (no {_META})")
        self.meta = json.loads(meta_path.read_text())
        k = self.meta["num_streams"]
        self.meta.setdefault("streams", [s.to_dict() for s in semantic_streams(k, self.meta["vocab_size"], self.meta["frame_rate"])])
        try:
            self.streams = tuple(StreamSpec.from_dict(spec) for spec in self.meta["streams"])
        except ConfigError as err:
            raise SpokenLMError(f"{meta_path}: bad stream spec ({err})") from err
        self.entries = _read_index(self.directory / _INDEX)
        self._position = {e["id"]: i for i, e in enumerate(self.entries)}
        frames = self.entries[-1]["offset"] + self.entries[-1]["length"] if self.entries else 0
        self._ids = np.memmap(self.directory / _IDS, dtype=_DTYPE, mode="r", shape=(frames * k,)) if frames else np.zeros(0, _DTYPE)
        self._durs = np.memmap(self.directory / _DURS, dtype=_DTYPE, mode="r", shape=(frames,)) if frames else np.zeros(0, _DTYPE)

    @property
    def frame_rate(self) -> float:
        return float(self.meta["frame_rate"])

    @property
    def vocab_size(self) -> int:
        return int(self.meta["vocab_size"])

    def ids(self) -> list[str]:
        return [e["id"] for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._position

    def _tokens(self, entry: dict) -> Tokens:
        k = self.meta["num_streams"]
        start, length = entry["offset"], entry["length"]
        ids = np.asarray(self._ids[start * k : (start + length) * k]).reshape(k, length)
        durations = np.asarray(self._durs[start : start + length]) if entry["has_durations"] else None
        return Tokens(ids, self.frame_rate, self.meta["tokenizer"], durations, self.streams)

    def __getitem__(self, item: str | int) -> Tokens:
        index = self._position[item] if isinstance(item, str) else item
        return self._tokens(self.entries[index])

    def __iter__(self) -> Iterator[tuple[str, Tokens]]:
        for entry in self.entries:
            yield entry["id"], self._tokens(entry)


def shard_dirs(root: str | Path) -> list[Path]:
    """The shard folders of a token corpus ``root`` (``root`` itself when it is one shard)."""
    root = Path(root)
    if (root / _META).exists():
        return [root]
    dirs = sorted(p for p in root.iterdir() if (p / _META).exists()) if root.is_dir() else []
    if not dirs:
        raise SpokenLMError(f"{root}: no token shards found")
    return dirs


def open_token_corpus(root: str | Path) -> list[ShardReader]:
    """Open every shard under ``root``; they must agree on tokenizer, frame rate and vocabulary."""
    readers = [ShardReader(d) for d in shard_dirs(root)]
    metas = {json.dumps(r.meta, sort_keys=True) for r in readers}
    if len(metas) > 1:
        raise SpokenLMError(f"{root}: shards disagree on their meta: {sorted(metas)}")
    return readers
