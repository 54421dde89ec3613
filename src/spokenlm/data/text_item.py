"""``TextItem``: one sentence of a text source, with the document it belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextItem:
    """One sentence: a corpus-unique ``id``, its ``text``, its document and its position (0-based) in it."""

    id: str
    text: str
    doc_id: str
    index: int
