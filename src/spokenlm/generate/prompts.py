"""Reading unit prompts from a token corpus or a text file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from spokenlm.data.shards import open_token_corpus
from spokenlm.errors import SpokenLMError


def read_prompts(source: str | Path, stream: int = 0) -> list[tuple[str, np.ndarray]]:
    """(id, unit ids ``[T]``) prompts from a token corpus folder, or from a text file of space-separated ids."""
    source = Path(source)
    if source.is_dir():
        return [(item_id, tokens.ids[stream]) for reader in open_token_corpus(source) for item_id, tokens in reader]
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
