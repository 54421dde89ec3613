"""Packed windows of speech+text documents: aligned utterances in the sequence formats of ``spokenlm.layouts.formats``.

A document is one utterance: its speech units (one stream of token shards) and its words, each a time span
(seconds from the cut's start) with its text ids. :func:`word_spans` places the words on the units: a word time
becomes a frame of the undeduplicated timeline (``round(t · frame_rate)``) and then the unit holding that frame,
so switch points stay exact after deduplication. :class:`FormattedCorpus` writes every document as
``BOS format(…) EOS`` in one joint vocabulary (``Vocabulary(n_units, n_text)``), the format drawn per document
from ``FormatConfig.mix`` with a generator seeded by ``(seed, document)`` (the same in every epoch), and packs
them as :class:`~spokenlm.data.packing.PackedCorpus` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spokenlm.data.packing import DocumentRef, PackedCorpus
from spokenlm.data.shards import ShardReader
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.layouts.formats import FormatConfig, Markers, choose_format, format_utterance
from spokenlm.layouts.interleave import WordSpan
from spokenlm.tokens import Tokens


def word_spans(times: Sequence[tuple[float, float]], texts: Sequence[tuple[int, ...]], tokens: Tokens, source: str) -> list[WordSpan]:
    """Words (``times`` ``(start_s, end_s)`` from the cut's start, in order; ``texts`` their model ids) → spans of
    token positions ``0 … T-1`` of ``tokens`` (deduplicated tokens through their durations; every stream alike).

    Raises :class:`SpokenLMError` naming ``source`` when a word lies outside the tokens or starts in the same token
    as the word before it (too short to have a speech span of its own).
    """
    durations = tokens.durations if tokens.durations is not None else np.ones(len(tokens), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(durations)[:-1]])  # first frame of each token
    total = int(durations.sum())
    frames = [(int(round(a * tokens.frame_rate)), int(round(b * tokens.frame_rate))) for a, b in times]
    positions = [int(np.searchsorted(starts, min(a, total - 1), side="right")) - 1 for a, _ in frames]
    spans = []
    for i, ((first, last), position) in enumerate(zip(frames, positions)):
        if first >= total:
            raise SpokenLMError(f"{source}: word {i} starts at frame {first}, after the {total} frames of its tokens")
        following = positions[i + 1] if i + 1 < len(positions) else len(tokens)
        if following <= position:
            raise SpokenLMError(f"{source}: words {i} and {i + 1} start in the same speech token (frame {first})")
        end = min(max(int(np.searchsorted(starts, last, side="left")), position + 1), following)
        spans.append(WordSpan(position, end, tuple(texts[i])))
    return spans


class FormattedCorpus(PackedCorpus):
    """Packed windows ``[T+1]`` of speech+text documents in the joint vocabulary ``vocab``.

    Args:
        readers, documents, seq_len, seed, shuffle, stream: as :class:`PackedCorpus` (the units of ``stream``).
        vocab: the joint vocabulary (``n_text`` > 0 for any format with text).
        words: per document of ``documents`` (same order), its words as spans of its token positions
            (:func:`word_spans`) with model text ids.
        formats: the format mix and the interleaving span sampler.
    """

    def __init__(self, readers: Sequence[ShardReader], documents: list[DocumentRef], vocab: Vocabulary, seq_len: int,
                 words: Sequence[Sequence[WordSpan]], formats: FormatConfig, seed: int = 0, shuffle: bool = True, stream: int = 0) -> None:
        if len(words) != len(documents):
            raise SpokenLMError(f"{len(words)} word lists for {len(documents)} documents")
        self.words, self.formats = list(words), formats
        self.markers = Markers(speech=vocab.speech_id, text=vocab.text_id)
        self.format_names: list[str] = []
        self._sequences: list[np.ndarray] = []
        self.readers, self.documents, self.stream = readers, documents, stream  # what _stream_units reads, before packing
        for doc in range(len(documents)):
            rng = np.random.default_rng([seed, doc])
            name = choose_format(formats, rng)
            speech = super()._stream_units(doc) + vocab.unit_offset
            body = format_utterance(name, speech, self.words[doc], self.markers, formats, rng)
            self.format_names.append(name)
            self._sequences.append(np.concatenate([[vocab.bos_id], body, [vocab.eos_id]]).astype(np.int64))
        super().__init__(readers, documents, vocab, seq_len, seed, shuffle, stream)

    def _document_columns(self, doc: int) -> int:
        return len(self._sequences[doc])

    def _document_ids(self, doc: int) -> np.ndarray:
        return self._sequences[doc]
