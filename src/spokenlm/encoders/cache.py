"""Frozen-encoder features cached once per corpus: one safetensors file of ``[T, D]`` tensors keyed by cut id.

The file's metadata holds the encoder's config; a cache written by another encoder (or another layer) is not
reused. Cuts whose audio cannot be read are skipped and listed, as every batch job does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save

from spokenlm.atomic import atomic_write_bytes
from spokenlm.checkpoint import read_stamped_cache
from spokenlm.encoders.base import Encoder
from spokenlm.errors import AudioError


def _encoder_key(encoder: Encoder) -> str:
    return json.dumps(encoder.config_dict(), sort_keys=True)


def read_cache(path: str | Path, encoder: Encoder) -> dict[str, torch.Tensor]:
    """The features cached in ``path`` for ``encoder`` (empty when absent or written by another encoder; a truncated
    file is a one-line error naming it)."""
    return read_stamped_cache(path, "encoder", _encoder_key(encoder))


def cached_features(encoder: Encoder, cuts: Iterable[Any], path: str | Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Features ``[T, D]`` (float32) of every cut by id, computed only for cuts not in the cache at ``path``, which is
    then rewritten atomically; also the skipped cuts (``id (file): reason``)."""
    from rich.progress import track

    from spokenlm.audio.loader import load_cut

    features = read_cache(path, encoder)
    todo = [cut for cut in cuts if cut.id not in features]
    skipped = []
    for cut in track(todo, description=f"{encoder.type_name} features", transient=True, disable=not todo):
        try:
            features[cut.id] = encoder.extract(load_cut(cut, encoder.sample_rate)).float().contiguous()
        except AudioError as err:
            skipped.append(str(err))
    if todo:
        atomic_write_bytes(path, save(features, metadata={"encoder": _encoder_key(encoder)}))
    return features, skipped


def corpus_features(encoder: Encoder, corpora: Iterable[str | Path], first_cache: str | Path = "") -> tuple[dict[str, torch.Tensor], list[str]]:
    """Features of every cut of each corpus folder (``cuts.jsonl.gz``), each cached in
    ``<corpus>/features-<encoder type>.safetensors`` (``first_cache``, when given, for the first corpus); and the skipped cuts."""
    from spokenlm.audio.loader import iter_cuts

    features: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    for i, corpus in enumerate(map(Path, corpora)):
        cache = Path(first_cache) if first_cache and i == 0 else corpus / f"features-{encoder.type_name}.safetensors"
        found, bad = cached_features(encoder, iter_cuts(corpus / "cuts.jsonl.gz"), cache)
        features.update(found)
        skipped += bad
    return features, skipped
