"""``spokenlm doctor``: which optional engines and bundled weights work here, and how to get the rest."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from spokenlm.cli.apps import app


@app.command()
def doctor(strict: bool = typer.Option(False, help="Exit with code 1 when any component is missing.")) -> None:
    """Report which optional engines (TTS, ASR, vocoders, VAD, GPU) are usable, and how to install each missing one."""
    from spokenlm.env.engines import run_probes

    probes = run_probes()
    table = Table(title="spokenlm doctor")
    for column in ("component", "for", "status", "found / how to install"):
        table.add_column(column, overflow="fold")
    for probe in probes:
        status = "[green]ok[/]" if probe.ok else "[yellow]missing[/]"
        table.add_row(probe.name, probe.purpose, status, probe.detail if probe.ok else f"{probe.detail} → {probe.install}")
    Console().print(table)
    missing = [p for p in probes if not p.ok]
    if strict and missing:
        raise typer.Exit(1)
