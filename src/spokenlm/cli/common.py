"""Helpers shared by CLI commands: config resolution and one-line error exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console

from spokenlm.config import load_config
from spokenlm.errors import SpokenLMError

T = TypeVar("T")
console = Console(stderr=True)

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="YAML recipe; key=value overrides apply on top.")
OVERRIDES_ARGUMENT = typer.Argument(None, help="Config overrides such as model.dim=256 lr=3e-4.", show_default=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected errors (bad file, bad config, missing dependency) into a one-line message and exit code 2."""
    try:
        yield
    except SpokenLMError as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False)
        raise typer.Exit(2) from err


def resolve_config(cls: type[T], config: Path | None, overrides: list[str] | None) -> T:
    """Load ``cls`` from an optional YAML file plus ``key=value`` overrides (errors exit with one line)."""
    with user_errors():
        return load_config(cls, config, overrides or [])
