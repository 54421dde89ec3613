"""The spokenlm command: help texts and doctor."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from spokenlm.cli import app

runner = CliRunner()


def test_help_lists_every_command_with_a_description() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("doctor", "data", "eval", "benchmarks"):
        assert name in result.output
    command_names = [c.name or c.callback.__name__ for c in app.registered_commands]
    for command in app.registered_commands:
        assert command.callback.__doc__, f"command {command.name} has no help text"
    assert "doctor" in command_names


def test_doctor_reports_engines() -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    for name in ("espeak-ng", "flite", "festival", "pocketsphinx", "GPU"):
        assert name in result.output


def test_console_script_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "spokenlm", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "spokenlm" in out.stdout
