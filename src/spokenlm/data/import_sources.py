"""Find the utterances of an existing corpus on disk: FSDD file names, ``audio + .txt`` pairs, JSONL lists.

Each finder yields :class:`SourceItem` (or a :class:`SkippedItem` for an entry
it cannot use), never raising half-way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spokenlm.data.manifests import read_jsonl
from spokenlm.errors import ManifestError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FSDD_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z0-9-]+)_(?P<index>\d+)$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class SourceItem:
    """One audio file to import: ``id`` unique in the corpus, ``text``/``speaker`` when known, ``split`` when the source has one."""

    id: str
    path: Path
    text: str | None
    speaker: str | None
    split: str | None = None


@dataclass(frozen=True)
class SkippedItem:
    """An entry that cannot be imported, with where it is and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def _audio_files(root: Path) -> list[Path]:
    if not root.is_dir():
        raise ManifestError(f"{root}: not a folder")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def fsdd(root: str | Path) -> Iterator[SourceItem | SkippedItem]:
    """Free Spoken Digit Dataset files ``{digit}_{speaker}_{index}.wav``: speaker from the name, the digit word as text."""
    for path in _audio_files(Path(root)):
        match = _FSDD_NAME.match(path.stem)
        if match is None:
            yield SkippedItem(str(path), "name is not {digit}_{speaker}_{index}")
            continue
        yield SourceItem(path.stem, path, DIGIT_WORDS[int(match["digit"])], match["speaker"])


def audio_text_pairs(root: str | Path) -> Iterator[SourceItem | SkippedItem]:
    """Audio files with a same-named ``.txt`` transcript beside them (no ``.txt``: no text); speaker = parent folder name."""
    root = Path(root)
    for path in _audio_files(root):
        transcript = path.with_suffix(".txt")
        text = transcript.read_text(encoding="utf-8").strip() if transcript.is_file() else None
        relative = path.relative_to(root).with_suffix("")
        speaker = path.parent.name if path.parent != root else None
        yield SourceItem(_SAFE_ID.sub("_", str(relative)), path, text, speaker)


def jsonl_list(manifest: str | Path) -> Iterator[SourceItem | SkippedItem]:
    """Lines ``{"path" (or "audio"), "text", "speaker", "id"}``; relative paths are relative to the JSONL file."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise ManifestError(f"{manifest}: no such JSONL file")
    for number, entry, error in read_jsonl(manifest):
        where = f"{manifest}:{number}"
        if entry is None:
            yield SkippedItem(where, error)
            continue
        audio = entry.get("path") or entry.get("audio")
        if not isinstance(audio, str) or not audio:
            yield SkippedItem(where, "no 'path' (or 'audio') field")
            continue
        path = Path(audio) if Path(audio).is_absolute() else manifest.parent / audio
        item_id = str(entry.get("id") or _SAFE_ID.sub("_", str(Path(audio).with_suffix(""))))
        yield SourceItem(item_id, path, entry.get("text"), entry.get("speaker"))
