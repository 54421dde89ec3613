"""``spokenlm train-tokenizer`` and ``spokenlm tokenize``."""

from __future__ import annotations

from pathlib import Path

import typer

from spokenlm.cli.apps import app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, console, resolve_config, user_errors


@app.command("train-tokenizer")
def train_tokenizer(
    overrides: list[str] = OVERRIDES_ARGUMENT,
    config: Path = CONFIG_OPTION,
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the trained tokenizer (load it with --tokenizer OUT)."),
) -> None:
    """Train a speech tokenizer from a recipe (recipes/tokenizer-*.yaml); its `type` picks the trainer.

    Types: `kmeans` (an encoder + k-means; encoders: mfcc, log-mel, hubert, phone-classifier, hf-ssl, hf-whisper, ct2-whisper, saved), `mel` (quantized HiFi-GAN log-mel: dMel bins or residual k-means, decoded by HiFi-GAN V1; no gradient training), and, trained on the one training loop (resumable: rerun the same command after an interruption; DDP under torchrun): `phone` (a supervised frame phone classifier), `codec` (SEANet + RVQ), `mixed` (a codec with a teacher distilled into codebook 1) and `hubert` (our own HuBERT-style encoder: masked-prediction iterations, then k-means).

    The resolved recipe is written into OUT; load the result with `--tokenizer OUT`.
    """
    from spokenlm.train.tokenizer_recipes import train_tokenizer as run_recipe

    with user_errors():
        tokenizer = run_recipe(config, list(overrides or []), out)
    if tokenizer is not None:  # the main rank under torchrun
        console.print(f"saved tokenizer {tokenizer.name!r} ({tokenizer.vocab_size} ids at {tokenizer.frame_rate:g} Hz) to {out}")


@app.command("tokenize")
def tokenize(
    manifest: Path = typer.Argument(..., help="lhotse CutSet (cuts.jsonl.gz) of the audio to tokenize."),
    tokenizer: Path = typer.Option(..., "--tokenizer", "-t", help="Saved tokenizer folder (from train-tokenizer, or any SpeechTokenizer)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output token corpus: one shard folder per worker/rank."),
    workers: int = typer.Option(1, "--workers", "-j", help="CPU worker processes, one shard each (under torchrun: one process per rank)."),
    overrides: list[str] = OVERRIDES_ARGUMENT,
    config: Path = CONFIG_OPTION,
) -> None:
    """Tokenize every cut of MANIFEST into token shards under OUT (one shard per worker or rank).

    Resumable: rerunning skips cut ids already in OUT. Audio longer than `window_seconds` (default 30) is tokenized in consecutive windows. Bad audio (missing, corrupt, empty, silent, NaN) is skipped, listed in OUT/skipped.jsonl and counted; the run finishes.

    Under `torchrun`, each rank (RANK/WORLD_SIZE) tokenizes its share into its own shard. Overrides: window_seconds=…, threads=… (torch threads per worker). The resolved settings are written to OUT/tokenize.yaml.
    """
    from spokenlm.config import save_config
    from spokenlm.tokenizers.bulk import TokenizeConfig, run_tokenize

    settings = resolve_config(TokenizeConfig, config, overrides)
    settings.manifest, settings.tokenizer, settings.out, settings.workers = str(manifest), str(tokenizer), str(out), workers
    with user_errors():
        save_config(settings, out, "tokenize.yaml")
        summary = run_tokenize(settings)
    console.print(
        f"tokenized {summary.written} cut(s), {summary.already_done} already done, "
        f"skipped {len(summary.skipped)} bad file(s)" + (f" (see {out}/skipped.jsonl)" if summary.skipped else ""),
        highlight=False,
    )
