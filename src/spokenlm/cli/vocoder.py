"""Vocoder commands: ``spokenlm train-vocoder``, ``spokenlm resynth`` and ``spokenlm eval resynth``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from spokenlm.cli.apps import app, eval_app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, console, resolve_config, user_errors

if TYPE_CHECKING:
    from spokenlm.eval.resynth import ResynthConfig

OUT_DIR_ARGUMENT = typer.Argument(..., help="Output folder (created; rerunning the same command resumes).")


@app.command("train-vocoder")
def train_vocoder_command(out_dir: Path = OUT_DIR_ARGUMENT, config: Path | None = CONFIG_OPTION, overrides: list[str] | None = OVERRIDES_ARGUMENT) -> None:
    """Train a vocoder that voices a tokenizer's units (recipes/vocoder-*.yaml).

    model.kind picks the design: unit-mel (units → mel → pretrained HiFi-GAN or Griffin-Lim),
    unit-hifigan (direct, Polyak et al.) or unit-istft (direct, fast iSTFT head, streamable).
    Required: tokenizer=DIR and data.audio=[GLOB] or data.manifest=CUTS. speaker=table|dvector
    adds speaker conditioning, model.conditioning.f0_bins=N quantized F0.
    Writes config.yaml, metrics.jsonl/csv, checkpoints/ and vocoder/ into OUT_DIR; rerunning resumes,
    and under `torchrun --nproc_per_node N -m spokenlm train-vocoder ...` it trains with DDP.
    """
    from spokenlm.train.tasks.vocoder import VocoderTrainConfig, train_vocoder

    resolved = resolve_config(VocoderTrainConfig, config, overrides)
    with user_errors():
        vocoder = train_vocoder(resolved, out_dir)
    if vocoder is not None:  # the main rank under torchrun
        console.print(f"saved a {vocoder.config.kind} vocoder to {out_dir / 'vocoder'}", highlight=False)


def _resynth_config(out_dir: Path, config: Path | None, overrides: list[str] | None) -> ResynthConfig:
    """The resolved run config; OUT_DIR wins over any out_dir in the recipe."""
    from spokenlm.eval.resynth import ResynthConfig

    return resolve_config(ResynthConfig, config, [*(overrides or []), f"out_dir={out_dir}"])


@app.command()
def resynth(out_dir: Path = OUT_DIR_ARGUMENT, config: Path | None = CONFIG_OPTION, overrides: list[str] | None = OVERRIDES_ARGUMENT) -> None:
    """Audio → tokens → audio for files or a manifest: writes OUT_DIR/audio/<id>.wav and resynth.csv.

    Required: tokenizer=DIR and data.audio=[GLOB] or data.manifest=CUTS; vocoder=DIR unless the
    tokenizer decodes its own tokens (codec, mixed, mel); codebooks=N keeps the first N codebooks.
    speaker=source|none|NAME, use_f0=true|false, predict_durations=true voices predicted durations.
    Unusable inputs are skipped and counted.
    """
    from spokenlm.eval.resynth import run_resynthesis

    resolved = _resynth_config(out_dir, config, overrides)
    with user_errors():
        summary = run_resynthesis(resolved, evaluate=False)
    console.print(f"resynthesized {summary['utterances']} utterance(s), skipped {summary['skipped']} → {out_dir}", highlight=False)


@eval_app.command("resynth")
def eval_resynth(out_dir: Path = OUT_DIR_ARGUMENT, config: Path | None = CONFIG_OPTION, overrides: list[str] | None = OVERRIDES_ARGUMENT) -> None:
    """Score resynthesis: WER/CER vs reference text and vs ASR(original), speaker similarity, DNSMOS, F0, RTF.

    Same inputs as `spokenlm resynth`, plus references=FILE (id|...|text lines) when the data has no
    transcripts; asr=whisper|pocketsphinx; mel_vocoder=griffin-lim|hifigan-universal swaps the mel vocoder
    of a unit-mel vocoder or a mel tokenizer. Writes OUT_DIR/resynth.csv (one row per utterance) and summary.json.
    """
    from spokenlm.eval.resynth import run_resynthesis

    resolved = _resynth_config(out_dir, config, overrides)
    with user_errors():
        summary = run_resynthesis(resolved, evaluate=True)
    for key, value in summary.items():
        console.print(f"{key}: {value:.4f}" if isinstance(value, float) else f"{key}: {value}", highlight=False)
