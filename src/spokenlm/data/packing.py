"""Token shards → packed fixed-length training windows, streamed from memory maps.

Every document (one shard item, one stream) becomes ``BOS units… EOS`` in model ids; an
epoch concatenates the documents in a seeded random order and cuts the stream into
windows of ``seq_len + 1`` tokens (inputs ``[:-1]``, targets ``[1:]``; consecutive windows
overlap by one token so every token is a target once). Only document lengths are kept in
RAM; tokens are read from the shards' memory maps when a window is requested, so corpora
larger than RAM stream. Each window also carries segment ids (which document each token
belongs to), so attention can be restricted to documents (see ``spokenlm.models.masks``).

Window ``i`` of the infinite stream is window ``i % W`` of epoch ``i // W`` (W windows per
epoch): the data of a training step depends only on the step, which makes resume exact
and batches identical for any number of ranks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from spokenlm.data.shards import ShardReader
from spokenlm.data.vocab import Vocabulary
from spokenlm.errors import SpokenLMError

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


class PackedCorpus:
    """Packed windows over ``documents`` of token shards.

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
        if not documents:
            raise SpokenLMError("no documents to pack (is the token corpus empty?)")
        meta = readers[0].meta
        if meta["vocab_size"] > vocab.n_units:
            raise SpokenLMError(f"{readers[0].directory}: tokens have vocab_size {meta['vocab_size']}, the model only {vocab.n_units} units")
        if not 0 <= stream < meta["num_streams"]:
            raise SpokenLMError(f"{readers[0].directory}: no stream {stream} (tokens have {meta['num_streams']})")
        self.readers, self.documents, self.vocab = readers, documents, vocab
        self.seq_len, self.seed, self.shuffle, self.stream = seq_len, seed, shuffle, stream
        self.doc_tokens = np.array([readers[r].entries[i]["length"] + 2 for r, i in documents], dtype=np.int64)
        self.total_tokens = int(self.doc_tokens.sum())
        self.windows_per_epoch = (self.total_tokens - 1) // seq_len
        if self.windows_per_epoch < 1:
            raise SpokenLMError(f"corpus has {self.total_tokens} tokens, fewer than one window of {seq_len + 1}")
        self._epoch: tuple[int, np.ndarray, np.ndarray] | None = None

    def _order(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Document order of ``epoch`` and the start offset of each document in its token stream."""
        if self._epoch is None or self._epoch[0] != epoch:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.documents)) if self.shuffle else np.arange(len(self.documents))
            starts = np.concatenate([[0], np.cumsum(self.doc_tokens[order])[:-1]])
            self._epoch = (epoch, order, starts)
        return self._epoch[1], self._epoch[2]

    def _document_ids(self, doc: int) -> np.ndarray:
        r, i = self.documents[doc]
        units = self.readers[r][i].ids[self.stream]
        return np.concatenate([[self.vocab.bos_id], units + self.vocab.unit_offset, [self.vocab.eos_id]])

    def window(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Window ``index`` of the infinite stream → (ids ``[T+1]`` int64, segment ids ``[T+1]`` int64)."""
        epoch, local = divmod(index, self.windows_per_epoch)
        order, starts = self._order(epoch)
        begin, end = local * self.seq_len, local * self.seq_len + self.seq_len + 1
        k = int(np.searchsorted(starts, begin, side="right")) - 1
        ids, segments = [], []
        while begin < end:
            doc_ids = self._document_ids(int(order[k]))
            piece = doc_ids[begin - starts[k] : end - starts[k]]
            ids.append(piece)
            segments.append(np.full(len(piece), k, dtype=np.int64))
            begin += len(piece)
            k += 1
        return torch.from_numpy(np.concatenate(ids).astype(np.int64)), torch.from_numpy(np.concatenate(segments))

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Windows ``indices`` → (ids ``[B, T+1]``, segment ids ``[B, T+1]``)."""
        pairs = [self.window(i) for i in indices]
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

    def unigram_entropy(self) -> float:
        """Entropy (nats) of the token distribution of the packed stream (units, BOS and EOS).

        A model that ignores context and predicts these frequencies has this cross-entropy.
        """
        counts = np.zeros(self.vocab.size, dtype=np.int64)
        for doc in range(len(self.documents)):
            counts += np.bincount(self._document_ids(doc), minlength=self.vocab.size)
        p = counts[counts > 0] / counts.sum()
        return float(-(p * np.log(p)).sum())
