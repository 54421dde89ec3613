"""``spokenlm data``: build (synth), import, check and word-align corpora stored as lhotse manifests."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from spokenlm.cli.apps import data_app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, user_errors

stdout = Console()


def _progress(description: str):
    """A rich progress bar with counts, rate and time left."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def _stats_table(title: str, stats) -> Table:
    """Utterances, hours and distinct speakers per split, with a total row."""
    table = Table(title=title)
    for column in ("split", "utterances", "hours", "speakers"):
        table.add_column(column, justify="left" if column == "split" else "right")
    splits = [s for s in ("train", "dev", "test") if s in stats.utterances] + sorted(set(stats.utterances) - {"train", "dev", "test"})
    for split in splits:
        table.add_row(split, str(stats.utterances[split]), f"{stats.seconds[split] / 3600:.3f}", str(len(stats.speakers[split])))
    speakers = set().union(*stats.speakers.values()) if stats.speakers else set()
    table.add_row("total", str(sum(stats.utterances.values())), f"{stats.total_hours:.3f}", str(len(speakers)), style="bold")
    return table


def _report_skipped(kind: str, items: list[str]) -> None:
    if not items:
        return
    err = Console(stderr=True)
    err.print(f"[yellow]{len(items)} {kind}:[/]", highlight=False)
    for line in items[:20]:
        err.print(f"  {line}", highlight=False, soft_wrap=True)
    if len(items) > 20:
        err.print(f"  … and {len(items) - 20} more", highlight=False)


@data_app.command("synth")
def synth(
    out_dir: Path = typer.Argument(..., help="Corpus folder to create or finish (audio/, manifests, config.yaml, synth_log.jsonl)."),
    preset: str = typer.Option(None, "--preset", help="Start from a named config: 'demo' builds >= 1 h with 12 voices from generated stories."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Synthesize a paired multi-speaker 16 kHz corpus (FLAC + lhotse manifests) from text.

    Text: source=ljspeech | harvard | stories (generated, controlled vocabulary) | a text file.
    Voices: espeak-ng accents x variants, flite, festival (+ piper when configured); the last
    test_voices voices speak only the test split, whose sentences are unseen in train.
    Rerunning the same command skips finished utterances and redoes partial or failed ones.
    Config keys: source, num_stories, max_sentences, engines, voices, num_voices, test_voices,
    voices_per_sentence, mix_accents, isolated_words, dev_fraction, test_fraction, sample_rate, workers, seed.
    Example: spokenlm data synth corpus/demo --preset demo workers=2
    """
    from spokenlm.config import load_config
    from spokenlm.data.synth import PRESETS, SynthConfig, build_corpus

    with user_errors():
        if preset is not None and preset not in PRESETS:
            raise typer.BadParameter(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}", param_hint="--preset")
        cfg = load_config(SynthConfig, config, overrides or [], base=PRESETS[preset] if preset else None)
        with _progress("synthesizing") as bar:
            task = bar.add_task("synth", total=None)
            result = build_corpus(cfg, out_dir, lambda done, total: bar.update(task, completed=done, total=total))
    stdout.print(_stats_table(f"{out_dir} ({result.planned} planned, {result.reused} reused from an earlier run)", result.stats))
    for split, speakers in result.stats.speakers.items():
        stdout.print(f"{split} voices: {', '.join(sorted(speakers))}", highlight=False, soft_wrap=True)
    _report_skipped("utterances failed and were skipped (rerun to retry)", result.failures)


@data_app.command("import")
def import_(
    kind: str = typer.Argument(..., help="fsdd | pairs (audio + same-named .txt) | jsonl (path/text/speaker lines) | hf (a dataset saved with HF datasets: save_to_disk folder or parquet) | lhotse:<recipe> (e.g. lhotse:librispeech)."),
    source: Path = typer.Argument(..., help="Corpus folder (or the JSONL file for kind jsonl). Nothing is downloaded."),
    out_dir: Path = typer.Argument(..., help="Folder for recordings/supervisions/cuts.jsonl.gz and config.yaml."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Import an existing corpus into lhotse manifests; bad audio files are reported and skipped.

    Recordings longer than long_recording_s seconds are cut into utterances with silero-vad.
    Config keys: split, dev_speakers, test_speakers, language, long_recording_s, vad.*, validation.*, and for kind hf
    the columns hf.audio (default audio), hf.text, hf.speaker, hf.id; HF splits keep their names (validation → dev) and
    the audio bytes are decoded with soundfile into OUT_DIR/audio/ (no FFmpeg).
    Examples: spokenlm data import fsdd tests/assets/fsdd corpus/fsdd test_speakers=george;
    spokenlm data import hf ~/data/my_dataset corpus/mine hf.text=transcription
    """
    from spokenlm.config import load_config
    from spokenlm.data.importer import ImportConfig, import_corpus

    with user_errors():
        cfg = load_config(ImportConfig, config, [*(overrides or []), f"kind={kind}"])
        with _progress("importing") as bar:
            task = bar.add_task("import", total=None)
            result = import_corpus(cfg, source, out_dir, lambda: bar.advance(task))
    stdout.print(_stats_table(f"{out_dir} ({len(result.skipped)} skipped)", result.stats))
    _report_skipped("entries skipped", result.skipped)


@data_app.command("check")
def check(
    manifest: Path = typer.Argument(..., help="A corpus folder, or one recordings/supervisions/cuts .jsonl(.gz) manifest."),
    require_text: bool = typer.Option(False, "--require-text", help="Report supervisions with empty text."),
    tolerance: float = typer.Option(0.05, help="Accepted difference between audio length and manifest duration, seconds."),
    decode: bool = typer.Option(True, "--decode/--headers-only", help="Decode every file fully (catches truncated audio) or read headers only."),
    workers: int = typer.Option(2, help="Processes reading audio files in parallel."),
) -> None:
    """Report EVERY bad entry: missing file, unreadable audio, duration mismatch, duplicate id, empty text.

    Prints one line per problem and a summary table; exits 1 when any problem is found.
    """
    from spokenlm.data.check import check_corpus

    with user_errors():
        with _progress("checking") as bar:
            task = bar.add_task("check", total=None)
            report = check_corpus(manifest, require_text, tolerance, decode, lambda n: bar.advance(task, n), workers)
    for problem in report.problems:
        stdout.print(str(problem), highlight=False, soft_wrap=True)
    table = Table(title=f"data check {manifest}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in (("recordings", report.recordings), ("supervisions", report.supervisions), ("cuts", report.cuts)):
        table.add_row(name, str(value))
    table.add_row("hours", f"{report.seconds / 3600:.3f}")
    for kind, count in sorted(report.counts().items()):
        table.add_row(f"[red]{kind}[/]", str(count))
    table.add_row("result", "[green]ok[/]" if report.ok else f"[red]{len(report.problems)} problem(s)[/]")
    stdout.print(table)
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("align")
def align(
    corpus: Path = typer.Argument(..., help="A corpus folder (recordings/supervisions/cuts.jsonl.gz); its manifests gain word tiers."),
) -> None:
    """Word alignments for every supervision, stored as lhotse alignment["word"] tiers in the corpus's manifests.

    Synthesized speech: the engine's phone timings grouped into words. Real speech: pocketsphinx forced alignment
    of the transcript. Supervisions that already have a word tier are kept. Words that could not be aligned,
    failed alignments and supervisions without a transcript are listed; exits 1 when any word is left unaligned.
    """
    from spokenlm.align.corpus import align_corpus

    with user_errors():
        with _progress("aligning") as bar:
            task = bar.add_task("align", total=None)
            report = align_corpus(corpus, lambda: bar.advance(task))
    table = Table(title=f"data align {corpus}")
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = (("supervisions", report.supervisions), ("already aligned", report.reused), ("words aligned", report.words),
            ("supervisions with unaligned words", len(report.unaligned)), ("alignments failed", len(report.failed)),
            ("supervisions without transcript", len(report.no_text)))
    for name, value in rows:
        table.add_row(name, str(value))
    stdout.print(table)
    _report_skipped("supervisions with words that could not be aligned", report.unaligned)
    _report_skipped("supervisions whose alignment failed (words left unaligned)", report.failed)
    _report_skipped("supervisions without a transcript (skipped)", report.no_text)
    if report.unaligned or report.failed:
        raise typer.Exit(1)
