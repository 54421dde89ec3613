"""``spokenlm eval tokenizer``: ABX, PNMI, purities and unit rate of a saved tokenizer on an aligned corpus."""

from __future__ import annotations

from pathlib import Path

import typer

from spokenlm.cli.apps import eval_app
from spokenlm.cli.common import CONFIG_OPTION, OVERRIDES_ARGUMENT, console, resolve_config, user_errors

REPORT_NAME = "tokenizer_eval.json"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


@eval_app.command("tokenizer")
def eval_tokenizer(
    tokenizer: Path = typer.Option(..., "--tokenizer", "-t", help="Saved tokenizer folder (any type: units, phone, …)."),
    manifest: Path = typer.Option(
        None,
        "--manifest",
        "-m",
        help="lhotse CutSet (cuts.jsonl.gz) with speakers and text or phone timings; overrides manifest= in the recipe.",
    ),
    out: Path = typer.Option(None, "--out", "-o", help=f"Folder for {REPORT_NAME} and the resolved config.yaml."),
    config: Path = CONFIG_OPTION,
    overrides: list[str] = OVERRIDES_ARGUMENT,
) -> None:
    """Score a tokenizer on phone-aligned speech.

    Cuts without stored phone timings are force-aligned with pocketsphinx from
    their text. Reports ABX error within and across speakers on the tokenizer's
    features (angular DTW) and units (0/1 DTW), PNMI, phone purity, cluster
    purity and units per second after deduplication. Unusable cuts are skipped
    and counted. Recipe keys: manifest, split, max_items, abx.use_context,
    abx.max_items, abx.seed.
    """
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from spokenlm.atomic import atomic_write_json
    from spokenlm.config import save_config
    from spokenlm.eval.tokenizer_eval import TokenizerEvalConfig, evaluate_tokenizer, load_eval_corpus
    from spokenlm.tokenizers.base import load_tokenizer

    extra = [f"manifest={manifest}"] if manifest is not None else []
    settings = resolve_config(TokenizerEvalConfig, config, (overrides or []) + extra)
    with user_errors():
        model = load_tokenizer(tokenizer)
        corpus = load_eval_corpus(settings)
        if corpus.skipped:
            console.print(f"skipped {len(corpus.skipped)} cut(s); first: {corpus.skipped[0]}", highlight=False)
        report = evaluate_tokenizer(model, corpus, settings.abx)
    table = Table(title=f"{model.name}: {report.utterances} utterances, {report.seconds:.1f} s, {report.skipped} skipped")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("ABX within, features (%)", report.abx_features_within), ("ABX across, features (%)", report.abx_features_across),
        ("ABX within, units (%)", report.abx_units_within), ("ABX across, units (%)", report.abx_units_across),
    ]
    for name, value in rows:
        table.add_row(name, "n/a" if value is None else f"{100 * value:.1f}")
    table.add_row("PNMI", _fmt(report.pnmi))
    table.add_row("phone purity", _fmt(report.phone_purity))
    table.add_row("cluster purity", _fmt(report.cluster_purity))
    table.add_row("units/s after dedup", f"{report.units_per_second:.1f}")
    table.add_row("frame rate (Hz)", f"{report.frame_rate:g}")
    Console().print(table)
    if out is not None:
        save_config(settings, out)
        result = {"tokenizer": str(tokenizer), "name": model.name, **asdict(report), "skipped_cuts": corpus.skipped}
        atomic_write_json(out / REPORT_NAME, result)
        console.print(f"wrote {out / REPORT_NAME}", highlight=False)
