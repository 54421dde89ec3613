"""One-line reports of skipped inputs (bad audio files, unusable cuts) for batch jobs, which skip and go on."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

console = Console(stderr=True, highlight=False)


def report_skipped(errors: Sequence[object], shown: int = 10, what: str = "bad file(s)") -> None:
    """Print each of the first ``shown`` skipped inputs (errors naming the file and the reason), then the count."""
    for error in errors[:shown]:
        console.print(f"[yellow]skipped[/] {error}")
    if len(errors) > shown:
        console.print(f"[yellow]… and {len(errors) - shown} more[/]")
    if errors:
        console.print(f"[yellow]skipped {len(errors)} {what}[/]")
