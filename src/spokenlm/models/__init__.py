"""Sequence models over speech units: the decoder-only unit LM and its building blocks."""

from spokenlm.models.config import UnitLMConfig
from spokenlm.models.unit_lm import UnitLM

__all__ = ["UnitLM", "UnitLMConfig"]
