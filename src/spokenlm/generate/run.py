"""``spokenlm generate``: prompts in, sampled unit continuations out (JSONL + token shard)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from spokenlm.atomic import atomic_write_text
from spokenlm.config import save_config
from spokenlm.data.shards import ShardWriter
from spokenlm.errors import ConfigError
from spokenlm.generate.config import GenerateConfig
from spokenlm.generate.prompts import read_prompts
from spokenlm.generate.sampling import sample
from spokenlm.models import UnitLM
from spokenlm.perf import configure_cpu_threads
from spokenlm.tokens import Tokens


def generate_to_dir(config: GenerateConfig) -> int:
    """Run ``config``; returns the number of continuations written (empty or out-of-vocabulary prompts are skipped and counted)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not config.model or not config.prompts:
        raise ConfigError("generate needs model=DIR and prompts=CORPUS_OR_TXT")
    configure_cpu_threads()
    model = UnitLM.from_pretrained(config.model)
    specs = [dataclasses.replace(spec, delay=0) for spec in model.config.streams]  # the tokens' streams, as the tokenizer made them
    sizes = [spec.vocab_size for spec in specs] or [model.vocab.n_units]
    prompts, skipped = [], []
    for item_id, units in read_prompts(config.prompts, len(sizes)):
        units = units[..., : config.prompt_units] if config.prompt_units else units
        frames = units.reshape(len(sizes), -1)
        fits = frames.shape[1] > 0 and frames.min() >= 0 and bool((frames.max(axis=1) < np.array(sizes)).all())
        (prompts if fits else skipped).append((item_id, units))
    if skipped:
        console.print(f"skipped {len(skipped)} empty or out-of-vocabulary prompt(s), e.g. {skipped[0][0]}", highlight=False)
    out_dir = Path(config.out_dir)
    save_config(config, out_dir)
    lines = []
    rate = specs[0].frame_rate if specs else 0.0
    shard = ShardWriter(out_dir / "tokens" / "shard-00000", "unit-lm", rate, max(sizes), len(sizes), specs or None)
    with shard as writer, Progress() as progress:
        task = progress.add_task("generate", total=len(prompts))
        for start in range(0, len(prompts), config.batch_size):
            chunk = prompts[start : start + config.batch_size]
            units = [u for _, u in chunk]
            outputs = sample(model, [model.encode_frames(u) for u in units], config.max_new_tokens * model.tokens_per_frame,
                             config.temperature, config.top_k, config.top_p, seed=config.seed + start, units_only=True,
                             compile=config.compile, streams=config.streams or None)
            for (item_id, _), prompt, out in zip(chunk, units, outputs):
                continuation = model.decode_frames(out).numpy()
                listed = continuation[0] if prompt.ndim == 1 else continuation
                lines.append(json.dumps({"id": item_id, "prompt": prompt.tolist(), "continuation": listed.tolist()}))
                if item_id not in writer:
                    writer.add(item_id, Tokens(continuation, rate, "unit-lm", streams=tuple(specs)))
            progress.advance(task, len(chunk))
    atomic_write_text(out_dir / "generations.jsonl", "\n".join(lines) + "\n")
    return len(lines)
