"""Word spans on deduplicated tokens (hand-worked) and packed speech+text documents."""

from __future__ import annotations

import numpy as np
import pytest

from spokenlm.data.interleaved import FormattedCorpus, word_spans
from spokenlm.data.packing import corpus_documents
from spokenlm.data.shards import ShardWriter, open_token_corpus
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.layouts import WordSpan
from spokenlm.layouts.formats import FormatConfig, Markers, split_modalities
from spokenlm.tokens import Tokens

# 5 deduplicated tokens at 50 Hz lasting 3, 2, 4, 1, 5 frames: they start at frames 0, 3, 5, 9, 10 (0, 60, 100, 180, 200 ms)
TOKENS = Tokens(np.array([[7, 8, 9, 8, 7]]), 50.0, durations=np.array([3, 2, 4, 1, 5]))


def test_word_spans_on_the_frame_timeline_by_hand() -> None:
    # word 0 at 0.06-0.10 s (frames 3-5): token 1; word 1 at 0.10-0.19 s (frames 5-9.5): tokens 2-3 (3 starts at frame 9)
    # word 2 from 0.21 s (frame 10.5 → 10): token 4
    spans = word_spans([(0.06, 0.10), (0.10, 0.19), (0.21, 0.30)], [(40,), (41, 42), (43,)], TOKENS, "cut")
    assert spans == [WordSpan(1, 2, (40,)), WordSpan(2, 4, (41, 42)), WordSpan(4, 5, (43,))]
    with pytest.raises(SpokenLMError, match=r"cut: words 0 and 1 start in the same speech token"):
        word_spans([(0.0, 0.02), (0.02, 0.05)], [(40,), (41,)], TOKENS, "cut")
    with pytest.raises(SpokenLMError, match=r"cut: word 0 starts at frame 16, after the 15 frames"):
        word_spans([(0.32, 0.4)], [(40,)], TOKENS, "cut")


def test_formatted_corpus_packs_bos_format_eos(tmp_path) -> None:
    with ShardWriter(tmp_path / "tokens", "test", 50.0, 10) as writer:
        writer.add("a", TOKENS)
        writer.add("b", Tokens(np.array([[1, 2, 3, 4]]), 50.0, durations=np.array([2, 2, 2, 2])))
    readers = open_token_corpus(tmp_path / "tokens")
    vocab = Vocabulary(10, 50)
    words = [[WordSpan(1, 2, (vocab.text_offset + 1,)), WordSpan(2, 5, (vocab.text_offset + 2,))],
             [WordSpan(0, 2, (vocab.text_offset + 3,)), WordSpan(2, 4, (vocab.text_offset + 4, vocab.text_offset + 5))]]
    corpus = FormattedCorpus(readers, corpus_documents(readers), vocab, 8, words, FormatConfig(mix={"speech_text": 1.0}), shuffle=False)
    first = corpus._document_ids(0)
    units = TOKENS.ids[0] + vocab.unit_offset
    np.testing.assert_array_equal(first, [vocab.bos_id, vocab.speech_id, *units, vocab.text_id, vocab.text_offset + 1,
                                          vocab.text_offset + 2, vocab.eos_id])
    assert corpus.total_tokens == len(first) + 1 + 1 + 4 + 1 + 3 + 1  # b: BOS [SPEECH] 4 units [TEXT] 3 text EOS
    ids, segments = corpus.window(0)
    np.testing.assert_array_equal(ids.numpy(), first[:9])
    markers = Markers(vocab.speech_id, vocab.text_id)
    assert [m for m, _ in split_modalities(corpus._document_ids(1)[1:-1], markers)] == ["speech", "text"]
    assert corpus.format_names == ["speech_text", "speech_text"]
