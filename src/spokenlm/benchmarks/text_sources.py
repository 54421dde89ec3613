"""Read sentences from the text sources benchmarks and text LMs are built on.

Accepted sources (``.gz`` or not):
- plain text, one sentence per line;
- LJSpeech-style ``id|text|normalized`` lines (the normalized text is used);
- lhotse cut / supervision manifests (``*.jsonl``): every supervision's ``text``.
An empty source name means the LJSpeech transcripts bundled with spokenlm
(13,100 sentences of seven non-fiction books, in reading order).
"""

from __future__ import annotations

import gzip
import json
from importlib import resources
from pathlib import Path

from spokenlm.errors import ManifestError

BUNDLED_LJSPEECH = "ljspeech_transcripts.txt.gz"


def _open_lines(path: Path) -> list[str]:
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


def _jsonl_texts(path: Path, lines: list[str]) -> list[str]:
    texts = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise ManifestError(f"{path}:{number}: not valid JSON ({err.msg})") from err
        supervisions = item.get("supervisions", [item]) if isinstance(item, dict) else []
        texts.extend(s["text"] for s in supervisions if isinstance(s, dict) and s.get("text"))
    return texts


def read_sentences(source: str | Path = "") -> list[str]:
    """Sentences of ``source`` (see the module docstring), in file order, empty lines dropped."""
    if not str(source):
        path = Path(str(resources.files("spokenlm.resources.text").joinpath(BUNDLED_LJSPEECH)))
    else:
        path = Path(source)
    if not path.is_file():
        raise ManifestError(f"{path}: text source not found")
    lines = _open_lines(path)
    name = path.name.removesuffix(".gz")
    if name.endswith(".jsonl"):
        sentences = _jsonl_texts(path, lines)
    else:
        sentences = [line.split("|")[-1] if "|" in line else line for line in lines]
    sentences = [s.strip() for s in sentences if s.strip()]
    if not sentences:
        raise ManifestError(f"{path}: no sentences")
    return sentences
