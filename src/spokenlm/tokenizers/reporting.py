"""One-line reports of skipped inputs for batch jobs."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from spokenlm.errors import AudioError

console = Console(stderr=True, highlight=False)


def report_skipped(errors: Sequence[AudioError], shown: int = 10) -> None:
    """Print each of the first ``shown`` skipped files with its reason, then the count."""
    for error in errors[:shown]:
        console.print(f"[yellow]skipped[/] {error}")
    if len(errors) > shown:
        console.print(f"[yellow]… and {len(errors) - shown} more[/]")
    if errors:
        console.print(f"[yellow]skipped {len(errors)} bad file(s)[/]")
