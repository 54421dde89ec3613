"""Generation: batched sampling with a KV cache (audio in/out pipelines build on it)."""

from spokenlm.generate.sampling import sample

__all__ = ["sample"]
