"""A structured synthetic unit corpus (for smoke tests, benchmarks and CI recipes).

Utterances are sentences of "words"; each word is a fixed random sequence of units
(like deduplicated units of a spoken word) and word order follows a sparse random
bigram chain. So the units have a low-entropy structure that an LM can learn, far
below their unigram entropy — the property the tiny recipes check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spokenlm.data.shards import ShardWriter
from spokenlm.tokens import Tokens


def write_synthetic_corpus(
    directory: str | Path,
    n_units: int = 100,
    n_utterances: int = 400,
    n_words: int = 60,
    words_per_utterance: tuple[int, int] = (4, 12),
    successors: int = 3,
    n_shards: int = 2,
    seed: int = 0,
    frame_rate: float = 50.0,
) -> Path:
    """Write ``n_utterances`` synthetic items into ``n_shards`` shard folders under ``directory``."""
    rng = np.random.default_rng(seed)
    lexicon = [rng.integers(0, n_units, size=int(rng.integers(3, 9))) for _ in range(n_words)]
    chain = np.stack([rng.choice(n_words, size=successors, replace=False) for _ in range(n_words)])
    directory = Path(directory)
    writers = [ShardWriter(directory / f"shard-{i:05d}", "synthetic", frame_rate, n_units) for i in range(n_shards)]
    for item in range(n_utterances):
        word = int(rng.integers(n_words))
        units = []
        for _ in range(int(rng.integers(*words_per_utterance))):
            units.append(lexicon[word])
            word = int(chain[word, rng.integers(successors)])
        ids = np.concatenate(units)
        writers[item % n_shards].add(f"utt{item:06d}", Tokens(ids[None], frame_rate, "synthetic"))
    for writer in writers:
        writer.close()
    return directory
