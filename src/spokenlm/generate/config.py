"""Typed config of ``spokenlm generate``."""

from __future__ import annotations

from dataclasses import dataclass, field

from spokenlm.generate.sampling import StreamSampling


@dataclass
class GenerateConfig:
    """Continue token prompts with a trained UnitLM.

    Attributes:
        model: UnitLM directory (``save_pretrained`` output, e.g. ``runs/x/model``).
        prompts: a token corpus folder (each item is a prompt; a K-stream model reads the items' first K
            streams) or, for a one-stream model, a text file with one prompt per line as space-separated unit ids.
        out_dir: receives ``generations.jsonl``, a token shard ``tokens/`` of the continuations, and config.yaml.
        prompt_units: keep only the first N units of each prompt (0: whole prompt).
        max_new_tokens: frames generated per prompt at most (generation also stops at EOS).
        temperature / top_k / top_p: sampling (temperature 0 = greedy).
        streams: per-stream sampling settings of a multi-stream model (``[{temperature: 0.7, top_k: 50}, …]``,
            one per stream; empty: the settings above for every stream).
        batch_size: prompts decoded together; seed: sampling seed.
        compile: decode through ``torch.compile`` (compiles once, ~2× HF ``generate`` on CPU in
            ``bench/lm_generate.py``; worth it for long or many continuations).
    """

    model: str = ""
    prompts: str = ""
    out_dir: str = "generations"
    prompt_units: int = 0
    max_new_tokens: int = 200
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    streams: list[StreamSampling] = field(default_factory=list)
    batch_size: int = 16
    seed: int = 0
    compile: bool = False
