"""``spokenlm quickstart``: synthesize → tokenize → train LM and vocoder → evaluate → report, from one command."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from spokenlm.cli.apps import app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, user_errors


@app.command()
def quickstart(
    out_dir: Path = typer.Argument(Path("runs/quickstart"), help="Run folder; rerunning continues after the last finished stage."),
    scale: str = typer.Option("tiny", "--scale", help="Preset: micro (CI test, ~3 min), tiny (CPU default, 10-25 min on 2 cores by machine), small (longer CPU run), base (GPU recipe)."),
    start_from: str = typer.Option(None, "--from", help="Rerun from this stage: corpus, tokenizer, tokenize, lm, vocoder, resynth, benchmarks, pairs, generation, report."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Train and evaluate a speech LM that speaks, end to end, and write OUT_DIR/report.html.

    Stages: a multi-speaker TTS corpus of simple stories → a supervised phone tokenizer
    (phone-rate, speaker-invariant units) → token shards → a unit LM → a unit vocoder →
    resynthesis of held-out voices → sWUGGY and tStoryCloze with held-out voices, scored by
    the trained and an untrained LM → continuations of held-out prompts (synthetic and real
    human speech) transcribed by Whisper → report. Every stage is cached in OUT_DIR/state.json.
    It starts by printing the CPU (lscpu model name, AVX-512/AMX bf16) and a ~1 s GEMM GFLOP/s
    calibration, kept in OUT_DIR/machine.json and the report, so times from different machines compare.
    Overrides address each stage's config, e.g. lm.optim.max_steps=2000 corpus.num_stories=400.
    """
    from spokenlm.config import save_config
    from spokenlm.quickstart.stages import StageRunner
    from spokenlm.quickstart.config import load_quickstart_config
    from spokenlm.quickstart.pipeline import quickstart_stages, record_machine
    from spokenlm.report.summary import machine_line

    console = Console()
    with user_errors():
        settings = load_quickstart_config(scale, config, overrides or [])
        save_config(settings, out_dir)
        machine = machine_line(record_machine(out_dir, settings.calibration_seconds))
        console.print(f"machine: {machine}", highlight=False)
        runner = StageRunner(out_dir, quickstart_stages(settings), console)
        state = runner.run(start_from)
    console.print(runner.summary_table(state))
    console.print(f"machine: {machine}", highlight=False)
    total = sum(entry["seconds"] for entry in state.values())
    console.print(f"report: {out_dir / 'report.html'} — stages took {total / 60:.1f} min in all (cached stages count their first run)")
