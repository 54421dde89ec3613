"""Text sources: the bundled ones load from the installed package, and every file format reads the same way everywhere."""

import gzip
import json

import pytest

from spokenlm.data.text_sources import harvard, ljspeech, load_text_source, read_sentences
from spokenlm.errors import ManifestError


def test_bundled_sources_have_their_documented_sizes() -> None:
    items = list(harvard())
    assert len(items) == 720 and items[0].text == "The birch canoe slid on the smooth planks."
    lj = list(ljspeech())
    assert len(lj) == 13100 and (lj[1].id, lj[1].doc_id, lj[1].index) == ("LJ001-0002", "LJ001", 1)
    assert len(list(load_text_source("harvard"))) == 720
    assert read_sentences() == [item.text for item in lj]  # empty source: the LJSpeech transcripts


def test_file_formats_plain_pipes_manifests_gzip(tmp_path) -> None:
    plain = tmp_path / "story.txt"
    plain.write_text("One.\nTwo.\n\n\nThree.\n")
    items = list(load_text_source(str(plain)))
    assert [(i.text, i.doc_id, i.index) for i in items] == [("One.", "story-doc00000", 0), ("Two.", "story-doc00000", 1), ("Three.", "story-doc00001", 0)]
    pipes = tmp_path / "metadata.csv"
    pipes.write_text("LJ009-0003|Raw 1.|Normalized one.\nLJ009-0004|Raw 2.|Normalized two.\nLJ010-0001|x|\n")
    assert [(i.id, i.text, i.doc_id, i.index) for i in load_text_source(str(pipes))] == [
        ("LJ009-0003", "Normalized one.", "LJ009", 2), ("LJ009-0004", "Normalized two.", "LJ009", 3)]
    cuts = tmp_path / "cuts.jsonl.gz"
    lines = [{"id": "c1", "supervisions": [{"text": "Hello there."}, {"text": " "}]}, {"id": "s2", "text": "Alone."}]
    cuts.write_bytes(gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode()))
    assert read_sentences(cuts) == ["Hello there.", "Alone."]
    assert read_sentences(str(plain)) == ["One.", "Two.", "Three."]


def test_bad_sources_name_the_file(tmp_path) -> None:
    with pytest.raises(ManifestError, match="nowhere.txt: text source not found"):
        read_sentences(tmp_path / "nowhere.txt")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ManifestError, match=r"bad.jsonl:1: not valid JSON"):
        read_sentences(tmp_path / "bad.jsonl")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(ManifestError, match="empty.txt: no sentences"):
        read_sentences(tmp_path / "empty.txt")
    (tmp_path / "broken.txt.gz").write_bytes(b"not gzip")
    with pytest.raises(ManifestError, match="broken.txt.gz: not a valid gzip file"):
        read_sentences(tmp_path / "broken.txt.gz")
