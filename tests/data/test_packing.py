"""Joint vocabulary and packing of token shards into training windows: one stream, K delayed streams, flattened codebooks."""

import math

import numpy as np
import pytest
import torch

from spokenlm.audio.io import load_audio
from spokenlm.data.packing import FlatCorpus, MultiStreamCorpus, PackedCorpus, corpus_documents, split_documents
from spokenlm.data.shards import ShardWriter, open_token_corpus
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.layouts import StreamLayout, StreamSpec, codebook_streams
from spokenlm.tokenizers.base import load_tokenizer
from spokenlm.tokens import Tokens

from helpers.paths import REPO


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


def two_stream_corpus(tmp_path):
    """Two documents of K=2 streams with 10 units each (model ids: units + 5; BOS 1, EOS 2, PAD 0)."""
    with ShardWriter(tmp_path / "two", "test", 12.5, 10, num_streams=2, streams=codebook_streams(2, 10, 12.5, semantic=1)) as writer:
        writer.add("a", Tokens(np.array([[0, 1, 2], [3, 4, 5]]), 12.5))
        writer.add("b", Tokens(np.array([[6], [7]]), 12.5))
    return open_token_corpus(tmp_path / "two")


def test_multistream_windows_by_hand(tmp_path):
    readers = two_stream_corpus(tmp_path)
    layout = StreamLayout(readers[0].streams).with_delays([0, 1])
    packed = MultiStreamCorpus(readers, corpus_documents(readers), layout, seq_len=3, shuffle=False)
    # per document: BOS units EOS per stream, stream 1 one frame late; PAD where a stream has nothing
    stream0 = [1, 5, 6, 7, 2, 0, 1, 11, 2, 0]
    stream1 = [0, 1, 8, 9, 10, 2, 0, 1, 12, 2]
    assert packed.total_tokens == 10 and packed.windows_per_epoch == 3 and [v.size for v in packed.vocabs] == [15, 15]
    for i in range(3):
        ids, segments = packed.window(i)
        assert ids.tolist() == [stream0[3 * i : 3 * i + 4], stream1[3 * i : 3 * i + 4]]
    assert packed.window(1)[1].tolist() == [0, 0, 0, 1]
    document = torch.cat([packed.window(0)[0], packed.window(1)[0][:, 1:3]], dim=1)  # the 6 columns of document a
    assert layout.undelay(document).tolist() == [[1, 5, 6, 7, 2], [1, 8, 9, 10, 2]]
    ids, segments = packed.batch([0, 2])
    assert ids.shape == (2, 2, 4) and segments.shape == (2, 4)
    # padding is left out of the per-stream unigram entropy: stream 0 has BOS, EOS twice each, units once
    p = np.array([2, 2, 1, 1, 1, 1]) / 8
    assert packed.unigram_entropies()[0] == pytest.approx(float(-(p * np.log(p)).sum()))


def test_flat_windows_by_hand(tmp_path):
    readers = two_stream_corpus(tmp_path)
    packed = FlatCorpus(readers, corpus_documents(readers), StreamLayout(readers[0].streams), seq_len=4, shuffle=False)
    assert packed.vocab.n_units == 20  # codebook 1's unit u is joint unit 10 + u
    stream = [1, *(np.array([0, 13, 1, 14, 2, 15]) + 5), 2, 1, 6 + 5, 17 + 5, 2]  # 12 tokens
    assert packed.total_tokens == 12 and packed.windows_per_epoch == 2
    assert [packed.window(i)[0].tolist() for i in range(2)] == [stream[:5], stream[4:9]]
    with pytest.raises(SpokenLMError, match="take no delays"):
        FlatCorpus(readers, corpus_documents(readers), StreamLayout(readers[0].streams).with_delays([0, 1]), seq_len=4)


def test_multistream_layout_must_fit_the_tokens(tmp_path):
    readers = two_stream_corpus(tmp_path)
    documents = corpus_documents(readers)
    with pytest.raises(SpokenLMError, match="the layout has 3 streams, the tokens only 2"):
        MultiStreamCorpus(readers, documents, StreamLayout(codebook_streams(3, 10, 12.5)), seq_len=3)
    with pytest.raises(SpokenLMError, match=r"stream\(s\) \[1\] have larger vocabularies"):
        MultiStreamCorpus(readers, documents, StreamLayout((StreamSpec("semantic", 10, 12.5), StreamSpec("acoustic", 4, 12.5))), seq_len=3)
    one = MultiStreamCorpus(readers, documents, StreamLayout(readers[0].streams[:1]), seq_len=3, shuffle=False)  # the leading stream
    assert one.window(0)[0].tolist() == [[1, 5, 6, 7]]


def test_codec_tokens_of_real_speech_pack_delayed_and_resume_exactly(tmp_path, data_dir):
    """A real file through the saved codec tokenizer: 4 acoustic codebooks, Moshi-style delays (0, 1, 1, 1)."""
    tokenizer = load_tokenizer(REPO / "tests" / "golden" / "checkpoints" / "codec")
    clips = sorted((data_dir / "speechbrain" / "ASR").glob("spk1_snt*.wav"))[:3]
    with ShardWriter(tmp_path / "codec", tokenizer.name, tokenizer.frame_rate, tokenizer.vocab_size, tokenizer.num_streams, tokenizer.streams) as writer:
        for clip in clips:
            writer.add(clip.stem, tokenizer.encode(*load_audio(clip))[0])
    readers = open_token_corpus(tmp_path / "codec")
    layout = StreamLayout(readers[0].streams).with_delays([0, 1, 1, 1])
    assert [s.role for s in layout.streams] == ["acoustic"] * 4
    documents = corpus_documents(readers)
    ordered = MultiStreamCorpus(readers, documents, layout, seq_len=16, shuffle=False)
    first = readers[0][documents[0][1]]
    ids, _ = ordered.window(0)
    assert ids[0, 0] == 1 and ids[1:, 0].tolist() == [0, 0, 0]  # BOS of codebook 0; codebooks 1-3 wait a frame
    assert ids[1:, 1].tolist() == [1, 1, 1]
    assert ids[0, 1:].tolist() == (first.ids[0, :16] + 5).tolist()
    assert ids[1:, 2:].tolist() == (first.ids[1:, :15] + 5).tolist()
    # exact resume: window i is a pure function of i, whatever was read before
    shuffled = MultiStreamCorpus(readers, documents, layout, seq_len=16, seed=7)
    steps = [0, shuffled.windows_per_epoch + 3, 5, 2 * shuffled.windows_per_epoch]
    expected = [shuffled.window(i)[0] for i in steps]
    fresh = MultiStreamCorpus(readers, documents, layout, seq_len=16, seed=7)
    for i, want in reversed(list(zip(steps, expected))):
        assert torch.equal(fresh.window(i)[0], want)
    assert min(ordered.unigram_entropies()) > 0
