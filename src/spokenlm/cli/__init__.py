"""The ``spokenlm`` command line."""

from spokenlm.cli.main import app, main

__all__ = ["app", "main"]
