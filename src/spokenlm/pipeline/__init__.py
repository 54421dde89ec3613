"""Multi-stage pipelines with cached, resumable stages (used by the quickstart)."""

from spokenlm.pipeline.stages import Stage, StageRunner

__all__ = ["Stage", "StageRunner"]
