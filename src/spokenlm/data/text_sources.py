"""Text sources for the corpus builder: bundled LJSpeech transcripts and Harvard sentences,
generated stories, or a user's text file.

Every source yields :class:`TextItem` in document order. ``doc_id`` groups
sentences that belong together (an LJSpeech chapter, a Harvard list, a story, a
paragraph of a text file) so that splits are made by document.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spokenlm.errors import SpokenLMError

BUILT_IN = ("ljspeech", "harvard", "stories")
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class TextItem:
    """One sentence: a corpus-unique ``id``, its ``text``, its document and its position (0-based) in it."""

    id: str
    text: str
    doc_id: str
    index: int


def _resource(name: str) -> Path:
    return Path(str(resources.files("spokenlm") / "resources" / "text" / name))


def ljspeech() -> Iterator[TextItem]:
    """The 13,100 LJSpeech transcripts (normalized column); documents are chapters (``LJ001``)."""
    with gzip.open(_resource("ljspeech_transcripts.txt.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("|")
            if len(fields) >= 3 and fields[2].strip():
                doc, _, number = fields[0].partition("-")
                yield TextItem(fields[0], fields[2].strip(), doc, int(number) - 1)


def harvard() -> Iterator[TextItem]:
    """The 720 Harvard sentences; documents are the 72 lists of ten."""
    lines = [line.strip() for line in _resource("harvard-sentences.txt").read_text().splitlines() if line.strip()]
    for i, text in enumerate(lines):
        yield TextItem(f"harvard-{i + 1:03d}", text, f"harvard-list-{i // 10 + 1:02d}", i % 10)


def text_file(path: str | Path) -> Iterator[TextItem]:
    """One sentence per non-empty line of a UTF-8 file; blank lines separate documents."""
    path = Path(path)
    if not path.is_file():
        raise SpokenLMError(f"{path}: text source not found (built-in sources: {', '.join(BUILT_IN)})")
    stem = _SAFE.sub("-", path.stem)
    doc, index, line_no = 0, 0, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            doc, index = (doc + 1, 0) if index else (doc, index)
            continue
        line_no += 1
        yield TextItem(f"{stem}-{line_no:06d}", line.strip(), f"{stem}-doc{doc:05d}", index)
        index += 1


def load_text_source(source: str, num_stories: int = 200, seed: int = 0) -> Iterator[TextItem]:
    """Sentences of a built-in source (``ljspeech``, ``harvard``, ``stories``) or of a text file path."""
    if source == "ljspeech":
        return ljspeech()
    if source == "harvard":
        return harvard()
    if source == "stories":
        from spokenlm.data.stories import generate_stories

        return generate_stories(num_stories, seed)
    return text_file(source)
