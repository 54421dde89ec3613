"""Text sources of the corpus builder: bundled transcripts, Harvard lists, generated stories, text files."""

from __future__ import annotations

import re
from collections import Counter
from itertools import islice

import pytest

from spokenlm.data.stories import generate_stories, story, vocabulary
from spokenlm.data.text_sources import harvard, ljspeech, load_text_source, text_file
from spokenlm.errors import SpokenLMError


def test_bundled_sources():
    lj = list(ljspeech())
    assert len(lj) == 13100
    assert (lj[0].id, lj[0].doc_id, lj[0].index) == ("LJ001-0001", "LJ001", 0)
    hv = list(harvard())
    assert len(hv) == 720 and len({i.doc_id for i in hv}) == 72
    assert hv[0].text == "The birch canoe slid on the smooth planks." and hv[11].index == 1


def test_text_file_documents_are_blank_line_separated(tmp_path):
    path = tmp_path / "my text.txt"
    path.write_text("First one.\nSecond one.\n\n\nThird one.\n")
    items = list(load_text_source(str(path)))
    assert [(i.id, i.doc_id, i.index) for i in items] == [
        ("my-text-000001", "my-text-doc00000", 0), ("my-text-000002", "my-text-doc00000", 1), ("my-text-000003", "my-text-doc00001", 0),
    ]
    with pytest.raises(SpokenLMError, match="nope.txt: text source not found"):
        list(text_file(tmp_path / "nope.txt"))


def test_stories_are_deterministic_ordered_and_use_a_closed_vocabulary():
    assert story(3, seed=1) == story(3, seed=1) and story(3, seed=1) != story(3, seed=2)
    items = list(generate_stories(100, seed=0))
    assert items[0].id == "story-00000-s00" and items[0].text.startswith("Once upon a time")
    for doc in {i.doc_id for i in items}:
        indices = [i.index for i in items if i.doc_id == doc]
        assert indices == list(range(len(indices))) and 7 <= len(indices) <= 10
    counts = Counter(w for i in generate_stories(1000, seed=0) for w in re.findall(r"[a-z]+", i.text.lower()))
    assert set(counts) <= vocabulary() and 800 <= len(vocabulary()) <= 1100
    # Words recur: over 1000 stories (~8,500 sentences) the median word is seen 20+ times.
    assert sorted(counts.values())[len(counts) // 2] >= 20
    assert len(list(islice(load_text_source("stories", num_stories=2), 100))) == len(story(0)) + len(story(1))
