"""Reading unit prompts from a token corpus or a text file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spokenlm.data.shards import open_token_corpus
from spokenlm.errors import SpokenLMError


def read_prompts(source: str | Path, num_streams: int = 1) -> list[tuple[str, np.ndarray]]:
    """(id, unit ids ``[T]``) prompts from a token corpus folder or a text file of space-separated ids; with
    ``num_streams`` K > 1, (id, frames ``[K, T]``) of the corpus items' first K streams."""
    source = Path(source)
    if source.is_dir():
        items = [(item_id, tokens.ids) for reader in open_token_corpus(source) for item_id, tokens in reader]
        short = next((item_id for item_id, ids in items if len(ids) < num_streams), None)
        if short is not None:
            raise SpokenLMError(f"{source}: item {short} has fewer than the model's {num_streams} streams")
        return [(item_id, ids[0] if num_streams == 1 else ids[:num_streams]) for item_id, ids in items]
    if num_streams > 1:
        raise SpokenLMError(f"{source}: a model of {num_streams} streams takes its prompts from a token corpus folder")
    if not source.is_file():
        raise SpokenLMError(f"{source}: prompt file or token corpus not found")
    prompts = []
    for number, line in enumerate(source.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            units = np.array([int(v) for v in line.split()], dtype=np.int64)
        except ValueError as err:
            raise SpokenLMError(f"{source}:{number}: not space-separated integer unit ids") from err
        prompts.append((f"line{number}", units))
    if not prompts:
        raise SpokenLMError(f"{source}: no prompts")
    return prompts
