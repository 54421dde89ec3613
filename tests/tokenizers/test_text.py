"""The text tokenizer of speech+text LMs: a corpus BPE, a HF text-LM folder's tokenizer, and the errors of both."""

from __future__ import annotations

import json

import pytest

from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.text import TextEncodingError, TextTokenizer

TEXTS = ["the little dog ran to the old red barn", "the dog and the cat sat in the barn", "a little cat ran home"] * 20


@pytest.fixture(scope="module")
def bpe() -> TextTokenizer:
    return TextTokenizer.train(TEXTS, vocab_size=60)


def test_corpus_bpe_encodes_words_as_the_sentence(bpe, tmp_path) -> None:
    assert bpe.vocab_size <= 60 and bpe.tokenizer.token_to_id("<unk>") == 0
    sentence = "the little cat ran to the barn"
    ids = bpe.encode(sentence)
    words = bpe.encode_words(sentence.split())
    assert [i for word in words for i in word] == ids.tolist()
    assert bpe.decode(ids) == sentence
    assert bpe.decode([i for word in words[1:3] for i in word]) == "little cat"  # subwords join, words get their spaces
    assert len(bpe.encode("the")) == 1  # a frequent word is one token
    bpe.save(tmp_path)
    assert TextTokenizer.load(tmp_path).encode(sentence).tolist() == ids.tolist()


def test_corpus_bpe_refuses_what_it_cannot_encode(bpe, tmp_path) -> None:
    with pytest.raises(TextEncodingError, match=r"^cut-7: the text tokenizer cannot encode 'é' in 'the cat é'$"):
        bpe.encode("the cat é", source="cut-7")
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(SpokenLMError, match=r"tokenizer.json: not a HF tokenizers file"):
        TextTokenizer.load(tmp_path)


def _text_lm_folder(path, bpe: TextTokenizer, vocab_size: int, extra: list[str] = ()):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_str(bpe.tokenizer.to_str())
    tokenizer.add_special_tokens(list(extra))
    path.mkdir()
    (path / "tokenizer.json").write_text(tokenizer.to_str())
    (path / "config.json").write_text(json.dumps({"vocab_size": vocab_size, "model_type": "llama"}))
    return path


def test_text_lm_folder_tokenizer_and_conflicts(bpe, tmp_path) -> None:
    folder = _text_lm_folder(tmp_path / "lm", bpe, vocab_size=64)
    text = TextTokenizer.from_text_lm(folder)
    assert text.vocab_size == 64  # the LM's embedding rows, not the tokenizer's size
    assert text.encode("the dog").tolist() == bpe.encode("the dog").tolist()
    with pytest.raises(SpokenLMError, match=r"marked: the text tokenizer has \[TEXT\] as text tokens, .* modality markers"):
        TextTokenizer.from_text_lm(_text_lm_folder(tmp_path / "marked", bpe, 64, ["[TEXT]"]))
    with pytest.raises(SpokenLMError, match=r"small: the text tokenizer has ids up to \d+, beyond the text LM's 10 embedding rows"):
        TextTokenizer.from_text_lm(_text_lm_folder(tmp_path / "small", bpe, 10))
    with pytest.raises(SpokenLMError, match=r"tokenizer.json: missing"):
        TextTokenizer.from_text_lm(tmp_path)
