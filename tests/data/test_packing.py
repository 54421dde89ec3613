"""Joint vocabulary and packing of token shards into training windows."""

import math

import numpy as np
import pytest
import torch

from spokenlm.data.packing import PackedCorpus, corpus_documents, split_documents
from spokenlm.data.shards import ShardWriter, open_token_corpus
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.tokens import Tokens


def test_vocabulary_layout_and_mapping():
    vocab = Vocabulary(n_units=10, n_text=3)
    assert vocab.size == 5 + 10 + 3 and vocab.unit_offset == 5 and vocab.text_offset == 15
    assert vocab.encode_units([0, 9], eos=True).tolist() == [vocab.bos_id, 5, 14, vocab.eos_id]
    assert vocab.ids_to_units(torch.tensor([1, 5, 14, 15, 2])).tolist() == [0, 9]
    assert vocab.text_to_ids([2]).tolist() == [17]
    with pytest.raises(SpokenLMError, match=r"\[0, 10\)"):
        vocab.units_to_ids([3, 10])


@pytest.fixture
def corpus(tmp_path):
    docs = {"a": [0, 1, 2], "b": [3, 3], "c": [4, 5, 6, 7], "d": [8]}
    with ShardWriter(tmp_path / "shard-00000", "test", 50.0, 10) as writer:
        for name, units in docs.items():
            writer.add(name, Tokens(np.array([units]), 50.0))
        writer.add("empty", Tokens(np.zeros((1, 0), dtype=np.int64), 50.0))
    return open_token_corpus(tmp_path), docs


def test_windows_cover_the_packed_stream_in_order(corpus):
    readers, docs = corpus
    vocab = Vocabulary(10)
    documents = corpus_documents(readers)
    assert len(documents) == 4  # the empty item is skipped
    packed = PackedCorpus(readers, documents, vocab, seq_len=4, shuffle=False)
    stream = np.concatenate([[1, *(np.array(u) + 5), 2] for u in docs.values()])  # 18 tokens
    assert packed.total_tokens == 18 and packed.windows_per_epoch == 4
    for i in range(4):
        ids, segments = packed.window(i)
        assert ids.tolist() == stream[4 * i : 4 * i + 5].tolist()
    assert packed.window(0)[1].tolist() == [0, 0, 0, 0, 0] and packed.window(1)[1].tolist() == [0, 1, 1, 1, 1]
    assert packed.window(4)[0].tolist() == packed.window(0)[0].tolist()  # epoch 1 = same order when not shuffled


def test_shuffling_is_deterministic_per_epoch(corpus):
    readers, _ = corpus
    make = lambda seed: PackedCorpus(readers, corpus_documents(readers), Vocabulary(10), seq_len=3, seed=seed)
    one, two = make(0), make(0)
    epochs = [[one.window(e * one.windows_per_epoch + i)[0].tolist() for i in range(one.windows_per_epoch)] for e in range(4)]
    assert epochs == [[two.window(e * two.windows_per_epoch + i)[0].tolist() for i in range(two.windows_per_epoch)] for e in range(4)]
    assert len({str(e) for e in epochs}) > 1
    ids, segments = one.batch([0, 5])
    assert ids.shape == segments.shape == (2, 4)


def test_unigram_entropy_by_hand(tmp_path):
    with ShardWriter(tmp_path / "s", "test", 50.0, 4) as writer:
        writer.add("x", Tokens(np.array([[0, 0]]), 50.0))
    readers = open_token_corpus(tmp_path / "s")
    packed = PackedCorpus(readers, corpus_documents(readers), Vocabulary(4), seq_len=2)
    # stream BOS u0 u0 EOS: p = 1/4, 1/2, 1/4
    assert packed.unigram_entropy() == pytest.approx(-(0.25 * math.log(0.25) * 2 + 0.5 * math.log(0.5)))


def test_split_and_errors(corpus):
    readers, _ = corpus
    documents = corpus_documents(readers)
    train, val = split_documents(documents, 0.25, seed=0)
    assert len(val) == 1 and sorted(train + val) == sorted(documents)
    with pytest.raises(SpokenLMError, match="only 5 units"):
        PackedCorpus(readers, documents, Vocabulary(5), seq_len=4)
    with pytest.raises(SpokenLMError, match="fewer than one window"):
        PackedCorpus(readers, documents, Vocabulary(10), seq_len=100)
