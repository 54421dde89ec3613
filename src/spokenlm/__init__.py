"""spokenlm: build, train, evaluate and serve spoken language models."""

__version__ = "0.1.0"
