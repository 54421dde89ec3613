"""``python -m spokenlm.train [--config recipe.yaml] key=value …`` — the entry torchrun launches."""

from spokenlm.cli.main import app

if __name__ == "__main__":
    import sys

    app(["train", *sys.argv[1:]])
