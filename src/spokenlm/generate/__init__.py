"""Generation: batched sampling through the LM's streaming state (one or many streams), and the real-time loop (:mod:`spokenlm.generate.realtime`)."""

from spokenlm.generate.sampling import sample

__all__ = ["sample"]
