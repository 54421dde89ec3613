"""Unit-LM commands: ``spokenlm train``, ``generate``, ``export-hf`` and ``tiny-text-lm``."""

from __future__ import annotations

from pathlib import Path

import typer

from spokenlm.cli.apps import app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, console, resolve_config, run_training, user_errors


@app.command()
def train(config: Path | None = CONFIG_OPTION, overrides: list[str] | None = OVERRIDES_ARGUMENT) -> None:
    """Train a unit LM on token shards (recipes/gslm-*.yaml, recipes/twist-*.yaml).

    Resumes from OUT_DIR/checkpoints/latest when present (a killed run continues exactly).
    Under `torchrun --nproc_per_node N -m spokenlm train ...` it trains with DDP (distributed=fsdp for FSDP).
    Writes config.yaml, metrics.jsonl/csv, checkpoints/, model/ and summary.json into out_dir.
    """
    from spokenlm.train.tasks.lm import LMTrainConfig, train

    run_training(LMTrainConfig, train, config, overrides)


@app.command()
def generate(config: Path | None = CONFIG_OPTION, overrides: list[str] | None = OVERRIDES_ARGUMENT) -> None:
    """Continue unit prompts with a trained unit LM (batched sampling with a KV cache).

    Required overrides: model=DIR prompts=CORPUS_OR_TXT. Writes out_dir/generations.jsonl
    ({"id", "prompt", "continuation"} as unit ids), the continuations as a token shard in
    out_dir/tokens/ (for a unit vocoder) and the resolved config.yaml.
    """
    from spokenlm.generate.config import GenerateConfig
    from spokenlm.generate.run import generate_to_dir

    resolved = resolve_config(GenerateConfig, config, overrides)
    with user_errors():
        count = generate_to_dir(resolved)
    console.print(f"wrote {count} continuations to {resolved.out_dir}", highlight=False)


@app.command("export-hf")
def export_hf(
    model_dir: Path = typer.Argument(..., help="UnitLM directory (config.json + model.safetensors)."),
    out_dir: Path = typer.Argument(..., help="Destination for a HF LlamaForCausalLM directory."),
    results: list[Path] = typer.Option([], "--results", help="`spokenlm eval pairs` output folders (or results.json) for the model card's benchmark table; repeatable."),
) -> None:
    """Export a one-stream unit LM as a HF LlamaForCausalLM directory (HF `generate` runs on it), with a model card.

    Token ids are the model ids of the joint vocabulary: unit u is id u + 5; BOS=1, EOS=2, PAD=0.
    OUT_DIR/README.md is a model card: how to load it, the training recipe and data, and the benchmark table.
    """
    from spokenlm.models import UnitLM
    from spokenlm.models.hf_llama import export_llama
    from spokenlm.report.model_card import write_model_card

    with user_errors():
        export_llama(UnitLM.from_pretrained(model_dir), out_dir)
        write_model_card(out_dir, results, made_from=model_dir,
                         notes=["Token ids are spokenlm's joint vocabulary: unit `u` is id `u + 5`; BOS = 1, EOS = 2, PAD = 0."])
    console.print(f"exported {model_dir} → {out_dir} (model card: {out_dir / 'README.md'})", highlight=False)


@app.command("tiny-text-lm")
def tiny_text_lm(
    out_dir: Path = typer.Argument(..., help="Destination HF directory."),
    vocab_size: int = typer.Option(512, help="Text vocabulary size."),
    dim: int = typer.Option(64, help="Hidden size."),
    layers: int = typer.Option(2, help="Transformer layers."),
    seed: int = typer.Option(0, help="Seed of the random weights."),
) -> None:
    """Write a tiny random-weight HF LlamaForCausalLM (for recipes/twist-tiny.yaml and tests; not pretrained)."""
    from spokenlm.models.tiny_text_lm import write_tiny_llama

    with user_errors():
        write_tiny_llama(out_dir, vocab_size=vocab_size, dim=dim, n_layers=layers, seed=seed)
    console.print(f"wrote a random tiny LLaMA to {out_dir}", highlight=False)
