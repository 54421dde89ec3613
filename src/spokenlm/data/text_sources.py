"""Text sources: the bundled LJSpeech transcripts and Harvard sentences, generated stories, or a user's file.

:func:`load_text_source` yields :class:`TextItem` in document order; ``doc_id`` groups sentences
that belong together (an LJSpeech chapter, a Harvard list, a story, a paragraph of a text file,
a cut of a manifest) so that splits are made by document. :func:`read_sentences` is the same as
a plain list of sentences (for benchmark builders and text LMs).

Built-in sources: ``ljspeech`` (13,100 sentences of seven non-fiction books, in reading order),
``harvard`` (720 sentences in 72 lists), ``stories`` (:mod:`spokenlm.data.stories`). A file path
(``.gz`` or not) is read as:

- lhotse cut or supervision manifests (``*.jsonl``): every supervision's ``text``, a document per line;
- LJSpeech-style ``id|text|normalized`` lines: the last field, documents by the id's chapter (``LJ001``);
- plain text: one sentence per non-empty line, blank lines separating documents.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from spokenlm.data.stories import generate_stories
from spokenlm.data.text_item import TextItem
from spokenlm.errors import ManifestError

BUILT_IN = ("ljspeech", "harvard", "stories")
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _resource(name: str) -> Path:
    return Path(str(resources.files("spokenlm") / "resources" / "text" / name))


def _lines(path: Path) -> list[str]:
    """Lines of a UTF-8 text file, gunzipped when it ends in ``.gz``."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ManifestError(f"{path}: cannot read text source ({err.strerror or err})") from err
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ManifestError(f"{path}: not a valid gzip file ({err})") from err
    return raw.decode("utf-8", errors="replace").splitlines()


def ljspeech() -> Iterator[TextItem]:
    """The 13,100 LJSpeech transcripts (normalized column); documents are chapters (``LJ001``)."""
    return _pipe_lines(_lines(_resource("ljspeech_transcripts.txt.gz")))


def harvard() -> Iterator[TextItem]:
    """The 720 Harvard sentences; documents are the 72 lists of ten."""
    lines = [line.strip() for line in _resource("harvard-sentences.txt").read_text().splitlines() if line.strip()]
    for i, text in enumerate(lines):
        yield TextItem(f"harvard-{i + 1:03d}", text, f"harvard-list-{i // 10 + 1:02d}", i % 10)


def _pipe_lines(lines: list[str]) -> Iterator[TextItem]:
    """``id|text|normalized`` lines: the last field. The document is the id before its last ``-`` and the position
    the number after it, counted from 1 (``LJ001-0002`` → ``LJ001``, 1), or the line's place in its document."""
    positions: dict[str, int] = {}
    for line in lines:
        fields = line.rstrip("\n").split("|")
        if not fields[-1].strip():
            continue
        doc, _, number = fields[0].rpartition("-")
        doc = doc or fields[0]
        positions[doc] = int(number) - 1 if number.isdigit() else positions.get(doc, -1) + 1
        yield TextItem(fields[0], fields[-1].strip(), doc, positions[doc])


def _manifest_lines(path: Path, lines: list[str]) -> Iterator[TextItem]:
    """Supervision texts of lhotse cut / supervision JSONL lines; each line is a document."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ManifestError(f"{path}:{number}: not valid JSON ({err.msg})") from err
        supervisions = item.get("supervisions", [item]) if isinstance(item, dict) else []
        texts = [s["text"].strip() for s in supervisions if isinstance(s, dict) and isinstance(s.get("text"), str) and s["text"].strip()]
        doc = str(item.get("id", f"line{number}")) if isinstance(item, dict) else f"line{number}"
        for index, text in enumerate(texts):
            yield TextItem(f"{doc}-{index}", text, doc, index)


def _plain_lines(stem: str, lines: list[str]) -> Iterator[TextItem]:
    """One sentence per non-empty line; blank lines separate documents."""
    doc, index, count = 0, 0, 0
    for line in lines:
        if not line.strip():
            doc, index = (doc + 1, 0) if index else (doc, index)
            continue
        count += 1
        yield TextItem(f"{stem}-{count:06d}", line.strip(), f"{stem}-doc{doc:05d}", index)
        index += 1


def text_file(path: str | Path) -> Iterator[TextItem]:
    """The sentences of a text file in any of the formats of the module docstring."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: text source not found (built-in sources: {', '.join(BUILT_IN)})")
    lines = _lines(path)
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        return _manifest_lines(path, lines)
    if any("|" in line for line in lines):
        return _pipe_lines(lines)
    return _plain_lines(_SAFE.sub("-", Path(name).stem), lines)


def load_text_source(source: str, num_stories: int = 200, seed: int = 0) -> Iterator[TextItem]:
    """Sentences of a built-in source (``ljspeech``, ``harvard``, ``stories``) or of a text file path."""
    if source == "ljspeech":
        return ljspeech()
    if source == "harvard":
        return harvard()
    if source == "stories":
        return generate_stories(num_stories, seed)
    return text_file(source)


def read_sentences(source: str | Path = "") -> list[str]:
    """The sentences of ``source`` (a built-in name or a file; empty: the LJSpeech transcripts), in order."""
    sentences = [item.text for item in load_text_source(str(source) or "ljspeech")]
    if not sentences:
        raise ManifestError(f"{source}: no sentences")
    return sentences
