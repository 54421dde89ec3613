"""Every benchmark script under bench/ parses on this Python and explains itself with --help."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.paths import REPO

BENCH = REPO / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_bench_script_compiles_and_prints_help(script: str) -> None:
    result = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout
