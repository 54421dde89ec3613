"""Where the repository and the tests' real data are."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "tests" / "assets"
