"""The data of a speech+text LM (``data.text.corpus`` set): word alignments + text tokenizer → formatted documents.

The words of each cut come from the word tiers of its lhotse corpus (``spokenlm data align``); the text tokenizer
is the folder ``data.text.tokenizer``, else the warm-start text LM's, else a BPE trained here on the training
cuts' words. Cuts without a transcript, without a word tier, with text the tokenizer cannot encode or with words
that have no speech token of their own are skipped and counted (:class:`SkipCounts`), never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.align.formats import supervision_words
from spokenlm.align.lexicon import text_to_words
from spokenlm.data.interleaved import word_spans
from spokenlm.data.manifests import load_corpus
from spokenlm.data.packing import DocumentRef
from spokenlm.data.shards import ShardReader
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.layouts.formats import FormatConfig
from spokenlm.layouts.interleave import WordSpan
from spokenlm.tokenizers.text import TextEncodingError, TextTokenizer

Words = tuple[list[str], list[tuple[float, float]]]


@dataclass
class TextDataConfig:
    """The text side of a speech+text LM.

    Attributes:
        corpus: the lhotse corpus folder of the tokens, with word tiers (``spokenlm data align``); set, the LM is a
            speech+text LM over one joint vocabulary (``data.stream``'s units + text).
        tokenizer: a folder with a ``tokenizer.json`` (a corpus BPE or a HF text LM); empty: the tokenizer of
            ``init.text_lm`` when warm-starting, else a BPE of ``vocab_size`` trained on the training cuts' words.
        vocab_size: size of the BPE trained here.
        formats: the sequence-format mix and the interleaving spans (``spokenlm.layouts.formats``).
    """

    corpus: str = ""
    tokenizer: str = ""
    vocab_size: int = 512
    formats: FormatConfig = field(default_factory=FormatConfig)


@dataclass
class SkipCounts:
    """Cuts left out of a speech+text corpus, by reason, with up to 20 ``"cut: why"`` examples."""

    counts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    cut_ids: set[str] = field(default_factory=set)

    def add(self, reason: str, cut_id: str, detail: str) -> None:
        """Count cut ``cut_id`` as skipped for ``reason`` (``detail``: the one-line why)."""
        self.counts[reason] += 1
        self.cut_ids.add(cut_id)
        if len(self.examples) < 20:
            self.examples.append(detail)

    def to_dict(self) -> dict:
        return {"counts": dict(self.counts), "examples": self.examples}


def corpus_words(directory: str | Path, skipped: SkipCounts) -> dict[str, Words]:
    """Per cut id, its words and their ``(start_s, end_s)`` from the cut's start, over its supervisions in time order;
    cuts without a transcript or a word tier are counted in ``skipped``."""
    found = {}
    for cut in load_corpus(directory).cuts:
        supervisions = sorted(cut.supervisions, key=lambda s: s.start)
        if not any(text_to_words(s.text or "") for s in supervisions):
            skipped.add("no_transcript", cut.id, f"{cut.id}: no transcript")
            continue
        tiers = [(s, supervision_words(s, cut.start + s.start)) for s in supervisions]
        if any(t is None for _, t in tiers):
            skipped.add("not_aligned", cut.id, f"{cut.id}: no word alignment (run spokenlm data align)")
            continue
        segments = [(s.start + w.start, s.start + w.end, w.word) for s, tier in tiers for w in tier]
        if not segments:
            skipped.add("not_aligned", cut.id, f"{cut.id}: no aligned words")
            continue
        found[cut.id] = ([w for _, _, w in segments], [(a, b) for a, b, _ in segments])
    return found


def text_tokenizer(config: TextDataConfig, text_lm: str, words: Sequence[Words]) -> TextTokenizer:
    """The tokenizer of :class:`TextDataConfig` (see there); ``words`` are the training cuts' words for a BPE."""
    if config.tokenizer:
        return TextTokenizer.from_text_lm(config.tokenizer)
    if text_lm:
        return TextTokenizer.from_text_lm(text_lm)
    return TextTokenizer.train((" ".join(w) for w, _ in words), config.vocab_size)


def formatted_documents(readers: Sequence[ShardReader], documents: Sequence[DocumentRef], words: dict[str, Words],
                        text: TextTokenizer, vocab: Vocabulary, skipped: SkipCounts) -> tuple[list[DocumentRef], list[list[WordSpan]]]:
    """The documents that can be formatted and their word spans (token positions, model text ids of ``vocab``); the
    others are counted in ``skipped``."""
    kept, spans = [], []
    for r, i in documents:
        cut_id = readers[r].entries[i]["id"]
        if cut_id not in words:
            if cut_id not in skipped.cut_ids:
                skipped.add("not_in_corpus", cut_id, f"{cut_id}: tokens without a cut in the text corpus")
            continue
        names, times = words[cut_id]
        try:
            ids = [tuple(int(t) + vocab.text_offset for t in w) for w in text.encode_words(names, source=cut_id)]
            spans.append(word_spans(times, ids, readers[r][i], cut_id))
        except TextEncodingError as err:
            skipped.add("text_unencodable", cut_id, str(err))
            continue
        except SpokenLMError as err:
            skipped.add("words_unplaceable", cut_id, str(err))
            continue
        kept.append((r, i))
    return kept, spans
