"""Speech-aware text LM commands: ``spokenlm train-salm``, ``ask``, ``eval salm`` and ``salm-requests``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from spokenlm.cli.apps import app, eval_app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, console, run_training, user_errors


@app.command("train-salm")
def train_salm(config: Path | None = CONFIG_OPTION, overrides: list[str] | None = OVERRIDES_ARGUMENT) -> None:
    """Instruction-tune a speech-aware text LM (recipes/salm-text-tiny.yaml, then recipes/salm-tiny.yaml).

    model.speech=false trains the text LM on text only (a tiny one is made when model.text_lm.path is empty);
    model.speech=true trains an adapter (model.adapter.type: linear, conv, ctc, qformer, window-qformer) in front of
    it, frozen or with LoRA (model.text_lm.mode). Writes out_dir/model (a SALM folder), metrics and checkpoints.
    """
    from spokenlm.train.tasks.salm import SALMTrainConfig, train_salm

    run_training(SALMTrainConfig, train_salm, config, overrides)


@app.command()
def ask(
    model_dir: Path = typer.Argument(..., help="A SALM folder (out_dir/model of train-salm)."),
    audio: Path = typer.Argument(..., help="An audio file (any rate; resampled)."),
    question: str = typer.Argument(..., help='The instruction, e.g. "Transcribe the audio." or "What did Ben find?"'),
    max_tokens: int = typer.Option(32, help="Longest answer, in tokens."),
) -> None:
    """Answer a spoken question: the audio through the SALM's encoder and adapter, the question as text; prints the answer."""
    from spokenlm.models.salm import SALM
    from spokenlm.models.salm import ask as answer

    with user_errors():
        typer.echo(answer(SALM.from_pretrained(model_dir), audio, question, max_tokens))


@eval_app.command("salm")
def eval_salm(
    model_dir: Path = typer.Argument(..., help="A SALM folder."),
    corpora: list[Path] = typer.Option(..., "--corpus", help="spokenlm data synth folders whose test split is scored; repeatable."),
    out: Path = typer.Option(..., "--out", help="results.json to write."),
    cascade: Path | None = typer.Option(None, "--cascade", help="A text-only SALM folder: also score Whisper base transcript → it."),
    split: str = typer.Option("test", help="The split to score (test: held-out voices and stories)."),
) -> None:
    """WER (asr) and accuracy with 95 % intervals (other tasks) on held-out examples, beside the majority-class and
    question-only (empty audio) baselines and, with --cascade, Whisper base → the text LM."""
    from spokenlm.atomic import atomic_write_json
    from spokenlm.eval.asr import load_asr
    from spokenlm.eval.salm import evaluate_run

    with user_errors():
        results = evaluate_run(model_dir, corpora, cascade, load_asr("whisper") if cascade else None, split)
        atomic_write_json(out, results)
    typer.echo(json.dumps(results, indent=1))


@app.command("salm-requests")
def salm_requests(
    out: Path = typer.Argument(..., help="Text file to write (a text source for spokenlm data synth)."),
    count: int = typer.Option(120, help="How many spoken requests."),
    seed: int = typer.Option(0, help="Seed of the words drawn."),
) -> None:
    """Write spoken requests ("What is the plural of fox?" …), one per document, to synthesize as a corpus for the command task."""
    from spokenlm.data.instructions import write_command_text

    with user_errors():
        write_command_text(out, count, seed)
    console.print(f"wrote {count} requests to {out}", highlight=False)
