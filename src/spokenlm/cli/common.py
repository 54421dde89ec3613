"""Helpers shared by CLI commands: config resolution and one-line error exits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console

from spokenlm.config import load_config
from spokenlm.errors import FileAccessError, SpokenLMError

T = TypeVar("T")
console = Console(stderr=True)

CONFIG_OPTION = typer.Option(None, "--config", "-c", help="YAML recipe; key=value overrides apply on top.")
OVERRIDES_ARGUMENT = typer.Argument(None, help="Config overrides such as model.dim=256 lr=3e-4.", show_default=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected errors into a one-line message and exit code 2.

    Expected: every :class:`SpokenLMError` (bad file, bad config, unreadable checkpoint, missing dependency) and OS
    errors that name a file (an output folder that cannot be created or written, an input that cannot be read).
    """
    try:
        yield
    except SpokenLMError as err:
        console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from err
    except OSError as err:
        if err.filename is None:
            raise
        message = FileAccessError.from_os_error(err, "cannot be read or written")
        console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from err


def resolve_config(cls: type[T], config: Path | None, overrides: list[str] | None) -> T:
    """Load ``cls`` from an optional YAML file plus ``key=value`` overrides (errors exit with one line)."""
    with user_errors():
        return load_config(cls, config, overrides or [])


def run_training(cls: type[T], train: Callable[[T], dict | None], config: Path | None, overrides: list[str] | None) -> None:
    """A training command: resolve ``cls`` (:func:`resolve_config`), run ``train`` on it and print its summary."""
    resolved = resolve_config(cls, config, overrides)
    with user_errors():
        summary = train(resolved)
    if summary:
        console.print(f"done: {summary}", highlight=False)
