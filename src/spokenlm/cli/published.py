"""``spokenlm benchmarks import``: a published pair benchmark from a local folder into our pair manifest."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from spokenlm.cli.apps import benchmarks_app
from spokenlm.cli.common import console, user_errors

stdout = Console()


@benchmarks_app.command("import")
def import_published_benchmark(
    name: str = typer.Argument(..., help="Published benchmark: slm21, salmon, sstorycloze or tstorycloze."),
    source: Path = typer.Argument(..., help="The release folder, as downloaded and unpacked (nothing is downloaded)."),
    out_dir: Path = typer.Argument(..., help="Folder for pairs.jsonl, published.json and import_report.json (audio stays in SOURCE)."),
) -> None:
    """Turn a published benchmark release into a pair manifest that `spokenlm eval pairs` scores.

    Layouts read: slm21 (ZeroSpeech 2021 sWUGGY + sBLIMP): SOURCE/{lexical,syntactic}/{dev,test}/gold.csv and the .wav files it names; salmon: SOURCE/<task>/*_<index>_*.wav for its 8 tasks; sstorycloze / tstorycloze: SOURCE/<index>_*.wav.

    Every audio file is checked: missing or unreadable files and gold.csv rows that do not parse are listed, their pairs are left out, and the command exits 1 (the manifest of the usable pairs is still written).

    Then `spokenlm eval pairs OUT_EVAL benchmark=OUT_DIR tokenizer=TOK model=LM` scores the pairs and writes the benchmark's own breakdown to OUT_EVAL/reference/ (slm21: ZR2021's by-pair, per-frequency, per-length and per-type scores; salmon and storycloze: slamkit's per-task accuracy), and for slm21 the ZeroSpeech submission files to OUT_EVAL/submission/{summed,normalized}/.

    Example: spokenlm benchmarks import slm21 ~/zr-data/datasets/sLM21-dataset out/slm21
    """
    from spokenlm.benchmarks.published import import_published

    with user_errors():
        summary = import_published(name, source, out_dir)
    subsets = ", ".join(f"{subset} {count}" for subset, count in summary.subsets.items())
    stdout.print(f"{name}: {summary.pairs} pairs in {out_dir} ({subsets})", highlight=False, soft_wrap=True)
    if summary.problems:
        console.print(f"[yellow]{len(summary.problems)} problem(s); their pairs were left out:[/]", highlight=False)
        for problem in summary.problems:
            console.print(f"  {problem}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1)
