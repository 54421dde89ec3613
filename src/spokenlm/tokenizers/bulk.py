"""Bulk tokenization: a lhotse CutSet in, token shards (:mod:`spokenlm.data.shards`) out.

Work is split by cut index: with ``N`` CPU workers (or ``WORLD_SIZE`` ranks under
``torchrun``), shard ``w`` takes cuts ``i`` with ``i % N == w`` and writes
``OUT/shard-{w:05d}``. Cut ids already in any shard of ``OUT`` are skipped, so
a killed run resumes. Audio longer than ``window_seconds`` is tokenized in
consecutive windows whose tokens are concatenated. Bad audio is skipped and
reported (``OUT/skipped.jsonl`` and a count); the run finishes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from spokenlm.atomic import atomic_write_text
from spokenlm.data.shards import ShardReader, ShardWriter, shard_dirs
from spokenlm.errors import SpokenLMError
from spokenlm.perf import resolve_device
from spokenlm.audio.loader import iter_cuts, load_cut
from spokenlm.tokenizers.base import SpeechTokenizer, load_tokenizer
from spokenlm.tokens import Tokens

SKIPPED_NAME = "skipped.jsonl"


@dataclass
class TokenizeConfig:
    """``spokenlm tokenize`` settings.

    Attributes:
        manifest: lhotse CutSet (``cuts.jsonl.gz``).
        tokenizer: saved tokenizer folder (any type :func:`load_tokenizer` opens).
        out: token corpus folder (one shard per worker or rank).
        workers: CPU worker processes (ignored under torchrun, where each rank is one worker).
        threads: torch threads per worker (0 = CPU cores / workers).
        window_seconds: longer audio is tokenized in windows of this length.
        device: where tokenizers with a torch model run: ``"auto"`` = ``cuda:LOCAL_RANK`` (one GPU per
            rank under torchrun) when CUDA is available, else the CPU; several CPU workers always use the CPU.
    """

    manifest: str = ""
    tokenizer: str = ""
    out: str = ""
    workers: int = 1
    threads: int = 0
    window_seconds: float = 30.0
    device: str = "auto"


@dataclass
class ShardSummary:
    """What one worker did: ids written, ids already present, and the skipped files (one-line reasons)."""

    written: int = 0
    already_done: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)


def encode_windowed(tokenizer: SpeechTokenizer, wav: np.ndarray, window_seconds: float) -> Tokens:
    """Tokenize mono ``wav`` ``[samples]`` at ``tokenizer.sample_rate`` in windows; tokens concatenated along T."""
    window = int(window_seconds * tokenizer.sample_rate)
    if wav.size <= window:
        return tokenizer.encode(wav, tokenizer.sample_rate)[0]
    parts = tokenizer.encode([wav[s : s + window] for s in range(0, wav.size, window)], tokenizer.sample_rate)
    durations = [p.durations for p in parts]
    return Tokens(
        np.concatenate([p.ids for p in parts], axis=1),
        parts[0].frame_rate,
        parts[0].tokenizer,
        np.concatenate(durations) if all(d is not None for d in durations) else None,
        parts[0].streams,
    )


def finished_ids(out: Path) -> set[str]:
    """Ids of every item already in the shards under ``out``."""
    if not out.exists():
        return set()
    try:
        return {item for directory in shard_dirs(out) for item in ShardReader(directory).ids()}
    except SpokenLMError:
        return set()


def tokenize_shard(config: TokenizeConfig, shard: int, num_shards: int, done: set[str], progress: Any = None) -> ShardSummary:
    """Tokenize cuts ``i % num_shards == shard`` of the manifest into ``out/shard-{shard:05d}``."""
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)
    tokenizer = load_tokenizer(config.tokenizer)
    device = resolve_device(config.device)
    if device.type != "cpu" and hasattr(tokenizer, "to"):
        tokenizer.to(device)
    summary = ShardSummary()
    directory = Path(config.out) / f"shard-{shard:05d}"
    with ShardWriter(directory, tokenizer.name, tokenizer.frame_rate, tokenizer.vocab_size, tokenizer.num_streams, tokenizer.streams) as writer:
        for index, cut in enumerate(iter_cuts(config.manifest)):
            if index % num_shards != shard:
                continue
            if cut.id in done or cut.id in writer:
                summary.already_done += 1
            else:
                try:
                    wav = load_cut(cut, tokenizer.sample_rate)
                    writer.add(cut.id, encode_windowed(tokenizer, wav, config.window_seconds))
                    summary.written += 1
                except SpokenLMError as err:  # AudioError, or a tokenizer refusing this input
                    summary.skipped.append({"id": cut.id, "error": str(err)})
            if progress is not None:
                progress.put(1)
    return summary


class _ProgressBar:
    """The ``put`` interface of a progress queue, advancing a rich task directly (single process)."""

    def __init__(self, progress: Any, task: Any) -> None:
        self.progress, self.task = progress, task

    def put(self, count: int) -> None:
        self.progress.advance(self.task, count)


def _worker(args: tuple[TokenizeConfig, int, int, set[str], Any]) -> ShardSummary:
    return tokenize_shard(*args)


def count_cuts(manifest: str | Path) -> int:
    """Number of cuts in a manifest (one lazy pass)."""
    return sum(1 for _ in iter_cuts(manifest))


def run_tokenize(config: TokenizeConfig) -> ShardSummary:
    """Tokenize the whole manifest (this rank's part under torchrun); returns the merged summary."""
    import multiprocessing as mp
    import queue as queue_module

    from rich.progress import Progress

    from spokenlm.audio.reporting import console

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    load_tokenizer(config.tokenizer)  # fail early, in the parent, on a bad tokenizer folder
    done = finished_ids(out)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    total = count_cuts(config.manifest)
    with Progress(console=console, transient=True) as progress:
        if world > 1 or config.workers <= 1:
            rank = int(os.environ.get("RANK", "0")) if world > 1 else 0
            share = len(range(rank, total, world))
            bar = _ProgressBar(progress, progress.add_task(f"tokenizing (shard {rank} of {world})", total=share))
            summaries = [tokenize_shard(config, rank, world, done, bar)]
        else:
            threads = config.threads or max(1, (os.cpu_count() or 1) // config.workers)
            worker_config = replace(config, threads=threads, device="cpu")
            context = mp.get_context("spawn")
            with context.Manager() as manager, context.Pool(config.workers) as pool:
                queue = manager.Queue()
                jobs = [(worker_config, w, config.workers, done, queue) for w in range(config.workers)]
                result = pool.map_async(_worker, jobs)
                task = progress.add_task("tokenizing", total=total)
                seen = 0
                while not (result.ready() and queue.empty()):
                    try:
                        seen += queue.get(timeout=0.2)
                        progress.update(task, completed=seen)
                    except queue_module.Empty:
                        continue
                summaries = result.get()
    merged = ShardSummary(
        sum(s.written for s in summaries), sum(s.already_done for s in summaries), [e for s in summaries for e in s.skipped]
    )
    if merged.skipped:
        name = SKIPPED_NAME if world == 1 else f"skipped-rank{os.environ.get('RANK', '0')}.jsonl"
        atomic_write_text(out / name, "".join(json.dumps(e) + "\n" for e in merged.skipped))
    return merged
