"""The pair manifest every benchmark writes and ``spokenlm eval pairs`` reads: ``pairs.jsonl``.

One JSON object per line (:class:`PairRecord`); audio paths are relative to the
manifest's folder, so a benchmark folder can be moved as a whole.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spokenlm.atomic import atomic_write_text
from spokenlm.errors import ManifestError

MANIFEST_NAME = "pairs.jsonl"


@dataclass
class PairRecord:
    """One benchmark pair: the model should prefer ``positive`` over ``negative``.

    Attributes:
        pair_id: unique id within the benchmark.
        subset: breakdown key (sBLIMP phenomenon, sWUGGY syllable count, SALMon task …).
        voice: TTS voice id both sides were spoken with.
        positive / negative: audio paths (16 kHz FLAC) relative to the manifest folder.
        positive_text / negative_text: what was said (words, or the word for sWUGGY).
        positive_phones / negative_phones: ARPAbet phones when spoken from phonemes, else ``None``.
        meta: anything else the builder records.
    """

    pair_id: str
    subset: str
    voice: str
    positive: str
    negative: str
    positive_text: str = ""
    negative_text: str = ""
    positive_phones: list[str] | None = None
    negative_phones: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def write_manifest(path: str | Path, records: list[PairRecord]) -> Path:
    """Atomically write ``records`` as JSONL to ``path``."""
    path = Path(path)
    atomic_write_text(path, "".join(json.dumps(dataclasses.asdict(r)) + "\n" for r in records))
    return path


def read_manifest(path: str | Path) -> list[PairRecord]:
    """Read a ``pairs.jsonl`` (or the folder holding one); raises :class:`ManifestError` naming file and line."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: pair manifest not found")
    names = {f.name for f in dataclasses.fields(PairRecord)}
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            raise ManifestError(f"{path}:{number}: not valid JSON ({err.msg})") from err
        if not isinstance(data, dict):
            raise ManifestError(f"{path}:{number}: expected a JSON object")
        missing = [k for k in ("pair_id", "subset", "voice", "positive", "negative") if k not in data]
        if missing:
            raise ManifestError(f"{path}:{number}: missing key(s) {', '.join(missing)}")
        records.append(PairRecord(**{k: v for k, v in data.items() if k in names}))
    if not records:
        raise ManifestError(f"{path}: no pairs")
    return records
