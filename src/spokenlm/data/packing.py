"""Token shards → packed fixed-length training windows, streamed from memory maps.

Every document (one shard item, one stream) becomes ``BOS units… EOS`` in model ids; an
epoch concatenates the documents in a seeded random order and cuts the stream into
windows of ``seq_len + 1`` tokens (inputs ``[:-1]``, targets ``[1:]``; consecutive windows
overlap by one token so every token is a target once). Only document lengths are kept in
RAM; tokens are read from the shards' memory maps when a window is requested, so corpora
larger than RAM stream. Each window also carries segment ids (which document each token
belongs to), so attention can be restricted to documents (see ``spokenlm.models.masks``).

Three packings share this:

* :class:`PackedCorpus` — one stream of the shards, windows ``[T+1]``;
* :class:`MultiStreamCorpus` — K streams of a :class:`~spokenlm.layouts.layout.StreamLayout`, each in its own
  vocabulary, with the layout's delays, windows ``[K, T+1]`` (pad ids where a stream has nothing);
* :class:`FlatCorpus` — K codebooks serialised in time into one joint vocabulary, windows ``[T+1]``;
* :class:`~spokenlm.data.interleaved.FormattedCorpus` — speech and text of aligned utterances in sequence formats
  (speech only, text only, pairs, word-level interleaving), one joint vocabulary, windows ``[T+1]``.

Window ``i`` of the infinite stream is window ``i % W`` of epoch ``i // W`` (W windows per
epoch): the data of a training step depends only on the step, which makes resume exact
and batches identical for any number of ranks.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import torch

from spokenlm.data.shards import ShardReader
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError
from spokenlm.layouts.flatten import flatten
from spokenlm.layouts.layout import StreamLayout

DocumentRef = tuple[int, int]  # (reader index, item index)


def corpus_documents(readers: Sequence[ShardReader]) -> list[DocumentRef]:
    """Every non-empty item of a corpus, as (reader index, item index)."""
    return [(r, i) for r, reader in enumerate(readers) for i, entry in enumerate(reader.entries) if entry["length"] > 0]


def split_documents(documents: list[DocumentRef], val_fraction: float, seed: int) -> tuple[list[DocumentRef], list[DocumentRef]]:
    """Seeded split into (train, validation) documents; validation gets ``ceil(val_fraction · N)``, at least 1 if > 0."""
    if val_fraction <= 0:
        return documents, []
    order = np.random.default_rng(seed).permutation(len(documents))
    n_val = max(1, int(np.ceil(val_fraction * len(documents))))
    if n_val >= len(documents):
        raise SpokenLMError(f"val_fraction={val_fraction} leaves no training documents out of {len(documents)}")
    val = sorted(documents[i] for i in order[:n_val])
    return sorted(documents[i] for i in order[n_val:]), val


class _Windows(ABC):
    """Windows of ``seq_len + 1`` columns over the documents of a subclass, in a seeded order per epoch.

    A subclass says how many columns a document of ``L`` frames packs to (:meth:`_document_length`) and
    what they are (:meth:`_document_ids`, ``[L']`` or ``[K, L']``), and sets what those read before ``__init__``.
    """

    def __init__(self, readers: Sequence[ShardReader], documents: list[DocumentRef], seq_len: int, seed: int, shuffle: bool) -> None:
        if not documents:
            raise SpokenLMError("no documents to pack (is the token corpus empty?)")
        self.readers, self.documents = readers, documents
        self.seq_len, self.seed, self.shuffle = seq_len, seed, shuffle
        self.doc_tokens = np.array([self._document_columns(doc) for doc in range(len(documents))], dtype=np.int64)
        self.total_tokens = int(self.doc_tokens.sum())
        self.windows_per_epoch = (self.total_tokens - 1) // seq_len
        if self.windows_per_epoch < 1:
            raise SpokenLMError(f"corpus has {self.total_tokens} tokens, fewer than one window of {seq_len + 1}")
        self._epoch: tuple[int, np.ndarray, np.ndarray] | None = None

    @abstractmethod
    def _document_length(self, frames: int) -> int:
        """Columns a document of ``frames`` frames packs to."""

    def _document_columns(self, doc: int) -> int:
        """Columns document ``doc`` packs to (from its frames, :meth:`_document_length`)."""
        r, i = self.documents[doc]
        return self._document_length(self.readers[r].entries[i]["length"])

    @abstractmethod
    def _document_ids(self, doc: int) -> np.ndarray:
        """The packed model ids of document ``doc``: ``[L']`` or ``[K, L']``."""

    def _units(self, doc: int) -> np.ndarray:
        """The stored ids ``[K, L]`` of document ``doc``."""
        r, i = self.documents[doc]
        return self.readers[r][i].ids

    def _order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Document order of ``epoch`` and the start offset of each document in its token stream."""
        if self._epoch is None or self._epoch[0] != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.documents)) if self.shuffle else np.arange(len(self.documents))
            starts = np.concatenate([[0], np.cumsum(self.doc_tokens[order])[:-1]])
            self._epoch = (epoch, order, starts)
        return self._epoch[1], self._epoch[2]

    def window(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Window ``index`` of the infinite stream → (ids ``[T+1]`` or ``[K, T+1]`` int64, segment ids ``[T+1]`` int64)."""
        epoch, local = divmod(index, self.windows_per_epoch)
        order, starts = self._order(epoch)
        begin, end = local * self.seq_len, local * self.seq_len + self.seq_len + 1
        k = int(np.searchsorted(starts, begin, side="right")) - 1
        ids, segments = [], []
        while begin < end:
            doc_ids = self._document_ids(int(order[k]))
            piece = doc_ids[..., begin - starts[k] : end - starts[k]]
            ids.append(piece)
            segments.append(np.full(piece.shape[-1], k, dtype=np.int64))
            begin += piece.shape[-1]
            k += 1
        return torch.from_numpy(np.concatenate(ids, axis=-1).astype(np.int64)), torch.from_numpy(np.concatenate(segments))

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows ``indices`` → (ids ``[B, T+1]`` or ``[B, K, T+1]``, segment ids ``[B, T+1]``)."""
        pairs = [self.window(i) for i in indices]
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

    def _stream_counts(self, sizes: Sequence[int]) -> list[np.ndarray]:
        """Per row of the packed documents, the count of each id (``sizes[k]`` ids in row ``k``)."""
        counts = [np.zeros(size, dtype=np.int64) for size in sizes]
        for doc in range(len(self.documents)):
            rows = np.atleast_2d(self._document_ids(doc))
            for row, count in zip(rows, counts):
                count += np.bincount(row, minlength=len(count))
        return counts


def _framed(vocab: Vocabulary, units: np.ndarray) -> np.ndarray:
    """Units ``[L]`` → model ids ``[L + 2]``: ``BOS units… EOS``."""
    return np.concatenate([[vocab.bos_id], units + vocab.unit_offset, [vocab.eos_id]])


def _entropy(counts: np.ndarray) -> float:
    """Entropy (nats) of the distribution with these counts."""
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


class PackedCorpus(_Windows):
    """Packed windows ``[T+1]`` of one stream over ``documents`` of token shards.

    Args:
        readers: the corpus shards (``open_token_corpus``).
        documents: which items to use (``corpus_documents`` / ``split_documents``).
        vocab: maps units to model ids; the shards' vocab_size must fit ``vocab.n_units``.
        seq_len: T, model input length per window.
        seed: shuffling seed; ``shuffle=False`` keeps the given order in every epoch.
        stream: which stream of multi-stream tokens to model.
    """

    def __init__(
        self,
        readers: Sequence[ShardReader],
        documents: list[DocumentRef],
        vocab: Vocabulary,
        seq_len: int,
        seed: int = 0,
        shuffle: bool = True,
        stream: int = 0,
    ) -> None:
        meta = readers[0].meta
        if meta["vocab_size"] > vocab.n_units:
            raise SpokenLMError(f"{readers[0].directory}: tokens have vocab_size {meta['vocab_size']}, the model only {vocab.n_units} units")
        if not 0 <= stream < meta["num_streams"]:
            raise SpokenLMError(f"{readers[0].directory}: no stream {stream} (tokens have {meta['num_streams']})")
        self.vocab, self.stream = vocab, stream
        super().__init__(readers, documents, seq_len, seed, shuffle)

    def _document_length(self, frames: int) -> int:
        return frames + 2

    def _stream_units(self, doc: int) -> np.ndarray:
        """The units ``[L]`` this corpus models of document ``doc``."""
        return self._units(doc)[self.stream]

    def _document_ids(self, doc: int) -> np.ndarray:
        return _framed(self.vocab, self._stream_units(doc))

    def unigram_entropy(self) -> float:
        """Entropy (nats) of the token distribution of the packed stream (units, BOS and EOS).

        A model that ignores context and predicts these frequencies has this cross-entropy.
        """
        return _entropy(self._stream_counts([self.vocab.size])[0])


def _check_layout(readers: Sequence[ShardReader], layout: StreamLayout) -> None:
    """The layout models the leading ``layout.num_streams`` streams of the shards, each in a vocabulary that holds them."""
    shard = readers[0]
    if layout.num_streams > len(shard.streams):
        raise SpokenLMError(f"{shard.directory}: the layout has {layout.num_streams} streams, the tokens only {len(shard.streams)}")
    small = [k for k, (ours, theirs) in enumerate(zip(layout.streams, shard.streams)) if theirs.vocab_size > ours.vocab_size]
    if small:
        raise SpokenLMError(f"{shard.directory}: stream(s) {small} have larger vocabularies in the tokens "
                            f"({[shard.streams[k].vocab_size for k in small]}) than in the layout ({[layout.vocab_sizes[k] for k in small]})")


class FlatCorpus(PackedCorpus):
    """Packed windows ``[T+1]`` of the layout's K codebooks serialised in time (SpeechGPT, Llama-Mimi).

    A document is ``BOS``, then frame by frame its codebooks ``0..K-1`` (``spokenlm.layouts.flatten``: codebook
    ``k``'s unit ``u`` is joint unit ``offsets[k] + u``), then ``EOS``, in the model ids of ``self.vocab`` =
    ``Vocabulary(sum(layout.vocab_sizes))``. A window may start or end mid-frame.

    Args:
        layout: the streams to flatten (the leading ``layout.num_streams`` of the shards; no delays).
        Others as :class:`PackedCorpus`.
    """

    def __init__(self, readers: Sequence[ShardReader], documents: list[DocumentRef], layout: StreamLayout, seq_len: int,
                 seed: int = 0, shuffle: bool = True) -> None:
        _check_layout(readers, layout)
        if layout.max_delay:
            raise SpokenLMError(f"flattened codebooks take no delays, the layout has {list(layout.delays)}")
        self.layout = layout
        super().__init__(readers, documents, Vocabulary(sum(layout.vocab_sizes)), seq_len, seed, shuffle)

    def _document_length(self, frames: int) -> int:
        return self.layout.num_streams * frames + 2

    def _stream_units(self, doc: int) -> np.ndarray:
        return flatten(self._units(doc)[: self.layout.num_streams], self.layout.vocab_sizes)


class MultiStreamCorpus(_Windows):
    """Packed windows ``[K, T+1]`` of the layout's K streams, delayed (MusicGen/Moshi).

    A document of ``L`` frames becomes, in stream ``k``, ``BOS units… EOS`` in the model ids of
    ``self.vocabs[k]`` (``Vocabulary(layout.vocab_sizes[k])``), shifted right by the stream's delay:
    ``[K, L + 2 + max_delay]`` with ``Vocabulary.pad_id`` wherever a stream has no token (its first
    ``delay`` columns and its last ``max_delay - delay``). Segment ids ``[T+1]`` give each column's document.
    A text, pitch or style stream is packed the same way: its token ids are the "units" of its vocabulary.

    For the loss: inputs ``ids[..., :-1]``, targets ``ids[..., 1:]``; a target equal to ``Vocabulary.pad_id``
    is padding and carries no loss (``ignore_index=Vocabulary.pad_id``). ``layout.undelay`` of a document's
    columns gives back its aligned streams.

    Args:
        layout: the streams to model (the leading ``layout.num_streams`` of the shards) with their delays.
        Others as :class:`PackedCorpus`.
    """

    def __init__(self, readers: Sequence[ShardReader], documents: list[DocumentRef], layout: StreamLayout, seq_len: int,
                 seed: int = 0, shuffle: bool = True) -> None:
        _check_layout(readers, layout)
        self.layout = layout
        self.vocabs = tuple(Vocabulary(size) for size in layout.vocab_sizes)
        super().__init__(readers, documents, seq_len, seed, shuffle)

    def _document_length(self, frames: int) -> int:
        return frames + 2 + self.layout.max_delay

    def _document_ids(self, doc: int) -> np.ndarray:
        units = self._units(doc)[: self.layout.num_streams]
        rows = np.stack([_framed(vocab, row) for vocab, row in zip(self.vocabs, units)])
        return self.layout.delay(rows, Vocabulary.pad_id)

    def unigram_entropies(self) -> list[float]:
        """Per stream, the entropy (nats) of its packed tokens (units, BOS and EOS; padding left out).

        A model that ignores context and predicts a stream's frequencies has this cross-entropy on it.
        """
        counts = self._stream_counts([v.size for v in self.vocabs])
        for count in counts:
            count[Vocabulary.pad_id] = 0
        return [_entropy(count) for count in counts]
