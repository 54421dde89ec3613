"""Entry point: imports every command module in this package so their commands register."""

from __future__ import annotations

import importlib
import pkgutil

import spokenlm.cli as package
from spokenlm.cli.apps import app

_NOT_COMMANDS = {"apps", "common", "main"}


def _register() -> None:
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _NOT_COMMANDS:
            importlib.import_module(f"spokenlm.cli.{module.name}")


def main() -> None:
    """Run the ``spokenlm`` command."""
    app()


_register()
