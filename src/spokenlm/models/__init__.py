"""Sequence models over token streams: the LM as backbone + heads (one or many streams), scoring, HF export, warm start."""

from spokenlm.models.config import UnitLMConfig
from spokenlm.models.unit_lm import UnitLM

__all__ = ["UnitLM", "UnitLMConfig"]
