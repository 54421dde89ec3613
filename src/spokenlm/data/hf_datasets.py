"""Datasets saved with HF ``datasets`` (``save_to_disk`` folders or parquet files) as import sources.

``spokenlm data import hf DIR OUT`` reads ``DIR`` — a ``save_to_disk`` folder (one dataset or a
``DatasetDict`` of splits), a folder of ``*.parquet`` files (``data/<split>-00000-of-00001.parquet``
as on the Hub), or one parquet file — with an ``Audio`` column and optional text and speaker
columns. The audio column is read with ``Audio(decode=False)`` and the bytes are decoded with
soundfile (no FFmpeg or torchcodec), then written once as FLAC under ``OUT/audio/`` so the lhotse
manifests point at files; rows whose audio is only a path use that file. Rows that cannot be read
are skipped and reported, never raised half-way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spokenlm.data.import_sources import SkippedItem, SourceItem
from spokenlm.errors import ManifestError, MissingDependencyError

_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")
_SPLIT_OF_PARQUET = re.compile(r"^(?P<split>[A-Za-z0-9_]+?)(-\d{5}-of-\d{5})?$")


@dataclass
class HFColumns:
    """Which columns of an HF dataset hold what.

    Attributes:
        audio: the ``Audio`` column (``{"bytes", "path"}`` once read with ``decode=False``).
        text: transcript column (empty or absent: no text).
        speaker: speaker column (empty or absent: no speaker).
        id: utterance id column (empty or absent: ``<split>-<row>``).
    """

    audio: str = "audio"
    text: str = "text"
    speaker: str = "speaker"
    id: str = ""


def _load_splits(source: Path) -> dict[str, Any]:
    """``{split: Dataset}`` of a ``save_to_disk`` folder, a folder of parquet files or a parquet file."""
    try:
        import datasets
    except ImportError as err:
        raise MissingDependencyError("datasets", "hf", "importing HF datasets") from err
    try:
        if source.is_file() or not any((source / name).is_file() for name in ("dataset_dict.json", "state.json")):
            files = [source] if source.is_file() else sorted(source.rglob("*.parquet"))
            if not files:
                raise ManifestError(f"{source}: neither a save_to_disk folder nor parquet files")
            by_split: dict[str, list[str]] = {}
            for file in files:
                match = _SPLIT_OF_PARQUET.match(file.stem)
                by_split.setdefault(match["split"] if match else file.stem, []).append(str(file))
            return {split: datasets.Dataset.from_parquet(paths) for split, paths in by_split.items()}
        loaded = datasets.load_from_disk(str(source))
    except (FileNotFoundError, ValueError, OSError) as err:
        raise ManifestError(f"{source}: not a readable HF dataset ({type(err).__name__}: {err})") from err
    return dict(loaded) if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}


def _write_audio(data: bytes, path: Path) -> None:
    """Decode ``data`` with soundfile and write it as FLAC at its own rate (mono average of channels)."""
    import soundfile as sf

    from spokenlm.audio.io import save_audio

    wav, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    save_audio(path, wav.mean(axis=1), sr)


def hf_dataset_items(source: str | Path, audio_dir: str | Path, columns: HFColumns | None = None) -> Iterator[SourceItem | SkippedItem]:
    """One :class:`SourceItem` per row of every split of the dataset at ``source`` (audio written to ``audio_dir``)."""
    columns = columns or HFColumns()
    source, audio_dir = Path(source), Path(audio_dir)
    splits = _load_splits(source)
    from datasets import Audio

    for split, dataset in splits.items():
        if columns.audio not in dataset.column_names:
            raise ManifestError(f"{source}: split {split!r} has no audio column {columns.audio!r} (columns: {', '.join(dataset.column_names)})")
        dataset = dataset.cast_column(columns.audio, Audio(decode=False))
        for row_number, row in enumerate(dataset):
            where = f"{source} (split {split}, row {row_number})"
            item_id = _SAFE_ID.sub("_", str(row.get(columns.id) if columns.id else f"{split}-{row_number:06d}"))
            audio = row[columns.audio] or {}
            try:
                if audio.get("bytes"):
                    path = audio_dir / split / f"{item_id}.flac"
                    if not path.is_file():
                        _write_audio(audio["bytes"], path)
                elif audio.get("path"):
                    path = Path(audio["path"]) if Path(audio["path"]).is_absolute() else source / audio["path"]
                else:
                    yield SkippedItem(where, "no audio bytes or path")
                    continue
            except (RuntimeError, ValueError, OSError) as err:  # soundfile's LibsndfileError is a RuntimeError
                detail = str(err).splitlines()[0].rpartition(": ")[2] if str(err) else type(err).__name__  # drop "<BytesIO …>: "
                yield SkippedItem(where, f"unreadable audio ({detail})")
                continue
            text = row.get(columns.text) if columns.text else None
            speaker = row.get(columns.speaker) if columns.speaker else None
            yield SourceItem(item_id, path, str(text) if text not in (None, "") else None,
                             str(speaker) if speaker not in (None, "") else None, split)
