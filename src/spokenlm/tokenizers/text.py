"""The text side of a speech+text LM: a BPE trained on the corpus text, or the tokenizer of a local HF text-LM folder.

Both are HF ``tokenizers`` models read from and written to ``tokenizer.json``. Text ids ``0 … vocab_size-1`` become
model ids with :meth:`spokenlm.data.vocab.Vocabulary.text_to_ids`. Words are encoded one by one
(:meth:`TextTokenizer.encode_words`) so that word-level interleaving knows which text ids belong to which word;
every word after the first is encoded with the space before it, as byte-level tokenizers (GPT-2, LLaMA 3, Qwen)
see it inside a sentence.

A corpus BPE has an ``<unk>`` token and no byte fallback: a character it never saw cannot be encoded, and
:meth:`TextTokenizer.encode` raises :class:`TextEncodingError` naming the text instead of writing ``<unk>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spokenlm.atomic import atomic_write_text
from spokenlm.data.vocab import SPECIAL_TOKENS
from spokenlm.errors import SpokenLMError
from spokenlm.tokenizers.bpe import read_tokenizer_file

TOKENIZER_FILE = "tokenizer.json"
UNKNOWN = "<unk>"
WORD_END = "</w>"
MARKERS = ("[SPEECH]", "[TEXT]")
"""The modality markers of the joint vocabulary: a text tokenizer may not have them as ordinary tokens."""


class TextEncodingError(SpokenLMError):
    """Text the tokenizer cannot encode (a character outside a corpus BPE's alphabet); the message names the text."""


class TextTokenizer:
    """A HF ``tokenizers.Tokenizer`` used for the text stream of a speech+text LM.

    Attributes:
        tokenizer: the ``tokenizers.Tokenizer``.
        vocab_size: number of text ids (the ``n_text`` of the joint :class:`~spokenlm.data.vocab.Vocabulary`).
    """

    def __init__(self, tokenizer: Any, vocab_size: int | None = None) -> None:
        self.tokenizer = tokenizer
        self.vocab_size = int(vocab_size or tokenizer.get_vocab_size(with_added_tokens=True))
        self._unknown = tokenizer.token_to_id(UNKNOWN)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> TextTokenizer:
        """A BPE of at most ``vocab_size`` tokens (``<unk>`` included) learnt from ``texts`` (words split at whitespace
        and punctuation)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if vocab_size < 2:
            raise SpokenLMError(f"a text BPE needs vocab_size >= 2, got {vocab_size}")
        tokenizer = Tokenizer(models.BPE(unk_token=UNKNOWN, end_of_word_suffix=WORD_END))
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        tokenizer.decoder = decoders.BPEDecoder(suffix=WORD_END)  # word ends are marked, so decoding restores the spaces
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[UNKNOWN],
                                      end_of_word_suffix=WORD_END, show_progress=False)
        tokenizer.train_from_iterator(texts, trainer=trainer)
        return cls(tokenizer)

    @classmethod
    def from_text_lm(cls, directory: str | Path) -> TextTokenizer:
        """The tokenizer of the HF text-LM folder ``directory`` (``tokenizer.json``, and ``config.json``'s ``vocab_size``,
        the rows of the LM's embeddings, when there is one), checked against the unit vocabulary (:func:`check_compatible`)."""
        tokenizer = _read(Path(directory) / TOKENIZER_FILE)
        rows = None
        config = Path(directory) / "config.json"
        if config.is_file():
            try:
                rows = int(json.loads(config.read_text())["vocab_size"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
                raise SpokenLMError(f"{config}: no vocab_size in the text LM's config ({err})") from err
        text = cls(tokenizer, rows)
        check_compatible(text, str(directory))
        return text

    def encode(self, text: str, source: str = "<text>") -> np.ndarray:
        """``text`` → text ids ``[N]`` (int64, no special tokens); raises :class:`TextEncodingError` naming ``source``
        when a piece of it is unknown to the tokenizer."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        if self._unknown is not None and self._unknown in encoding.ids:
            pieces = sorted({text[a:b] for i, (a, b) in zip(encoding.ids, encoding.offsets) if i == self._unknown})
            raise TextEncodingError(f"{source}: the text tokenizer cannot encode {', '.join(map(repr, pieces))} in {text!r}")
        return np.asarray(encoding.ids, dtype=np.int64)

    def encode_words(self, words: Sequence[str], source: str = "<text>") -> list[tuple[int, ...]]:
        """The text ids of each of ``words`` (the second and later with a leading space); errors as :meth:`encode`."""
        out = []
        for i, word in enumerate(words):
            ids = tuple(int(t) for t in self.encode(word if i == 0 else f" {word}", source))
            if not ids:
                raise TextEncodingError(f"{source}: the text tokenizer encodes word {i} ({word!r}) as no tokens")
            out.append(ids)
        return out

    def decode(self, ids: Sequence[int]) -> str:
        """Text ids ``[N]`` → text."""
        return self.tokenizer.decode([int(i) for i in ids])

    def save(self, directory: str | Path) -> None:
        """Write ``tokenizer.json`` into ``directory`` (atomically)."""
        atomic_write_text(Path(directory) / TOKENIZER_FILE, self.tokenizer.to_str())

    @classmethod
    def load(cls, directory: str | Path) -> TextTokenizer:
        """The tokenizer :meth:`save` wrote into ``directory``."""
        return cls(_read(Path(directory) / TOKENIZER_FILE))


def _read(path: Path) -> Any:
    return read_tokenizer_file(path, f"no text tokenizer here; a HF text-LM folder needs its {TOKENIZER_FILE}")


def check_compatible(text: TextTokenizer, source: str) -> None:
    """Raise a one-line :class:`SpokenLMError` naming ``source`` when ``text`` cannot share a joint vocabulary with the
    speech units: it has the modality markers as ordinary tokens (a text holding ``[TEXT]`` would read as a switch
    of modality), or ids beyond ``text.vocab_size`` (the LM's embedding rows)."""
    vocab = text.tokenizer.get_vocab(with_added_tokens=True)
    taken = [m for m in MARKERS if m in vocab]
    if taken:
        raise SpokenLMError(f"{source}: the text tokenizer has {', '.join(taken)} as text tokens, which the joint vocabulary "
                            f"reserves as modality markers ({', '.join(SPECIAL_TOKENS)})")
    largest = max(vocab.values(), default=-1)
    if largest >= text.vocab_size:
        raise SpokenLMError(f"{source}: the text tokenizer has ids up to {largest}, beyond the text LM's {text.vocab_size} "
                            "embedding rows (config.json vocab_size)")

