"""The quickstart's typed config: one section per stage, each the stage's own config class.

Scales are YAML presets shipped with the package (``resources/quickstart/<scale>.yaml``):
``micro`` (the CI test), ``tiny`` (the CPU default, 10–25 minutes on 2 cores, by machine),
``small`` (a longer CPU run) and ``base`` (a GPU recipe). Paths that link stages
(manifests, tokenizer, model folders) are filled in by the pipeline, not the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from spokenlm.benchmarks.storycloze import TStoryClozeConfig
from spokenlm.benchmarks.swuggy import SwuggyConfig
from spokenlm.config import load_config
from spokenlm.data.synth import SynthConfig
from spokenlm.errors import ConfigError
from spokenlm.eval.generative import GenerateEvalConfig
from spokenlm.eval.pairs import PairEvalConfig
from spokenlm.eval.resynth import ResynthConfig
from spokenlm.train.tasks.lm import LMTrainConfig
from spokenlm.train.tasks.phone import PhoneTrainConfig
from spokenlm.train.tasks.vocoder import VocoderTrainConfig

SCALES = ("micro", "tiny", "small", "base")


@dataclass
class QuickstartConfig:
    """Every stage's settings.

    Attributes:
        scale: the preset this config started from.
        corpus: the synthesized multi-speaker corpus (``spokenlm data synth``).
        tokenizer: the supervised phone tokenizer (``spokenlm train-tokenizer type=phone``).
        tokenize_workers: processes for ``spokenlm tokenize``.
        lm: the unit LM run (``spokenlm train``).
        vocoder: the unit vocoder run (``spokenlm train-vocoder``).
        resynth: resynthesis evaluation of held-out speech (``spokenlm eval resynth``).
        resynth_items: held-out utterances resynthesized (0: all of the test split).
        swuggy: the sWUGGY benchmark, built from the corpus's own words with held-out voices.
        tstorycloze: the tStoryCloze benchmark, built from stories the LM never saw.
        tstorycloze_stories: fresh stories generated for tStoryCloze.
        pairs: pair-scoring settings shared by both benchmarks.
        generation: continuation of held-out prompts (synthetic test voices and real human speech).
        synthetic_prompts: test-split utterances used as prompts.
        calibration_seconds: length of the GEMM calibration printed at the start (``machine.json``).
    """

    scale: str = "tiny"
    corpus: SynthConfig = field(default_factory=SynthConfig)
    tokenizer: PhoneTrainConfig = field(default_factory=PhoneTrainConfig)
    tokenize_workers: int = 2
    lm: LMTrainConfig = field(default_factory=LMTrainConfig)
    vocoder: VocoderTrainConfig = field(default_factory=VocoderTrainConfig)
    resynth: ResynthConfig = field(default_factory=ResynthConfig)
    resynth_items: int = 20
    swuggy: SwuggyConfig = field(default_factory=SwuggyConfig)
    tstorycloze: TStoryClozeConfig = field(default_factory=TStoryClozeConfig)
    tstorycloze_stories: int = 200
    pairs: PairEvalConfig = field(default_factory=PairEvalConfig)
    generation: GenerateEvalConfig = field(default_factory=GenerateEvalConfig)
    synthetic_prompts: int = 6
    calibration_seconds: float = 1.0


def preset_path(scale: str) -> Path:
    """The YAML preset of ``scale``."""
    if scale not in SCALES:
        raise ConfigError(f"unknown scale {scale!r}; scales: {', '.join(SCALES)}")
    return Path(str(resources.files("spokenlm") / "resources" / "quickstart" / f"{scale}.yaml"))


def load_quickstart_config(scale: str, config: Path | None = None, overrides: list[str] | None = None) -> QuickstartConfig:
    """The ``scale`` preset, then an optional user YAML, then ``key=value`` overrides."""
    base = load_config(QuickstartConfig, preset_path(scale), [f"scale={scale}"])
    return load_config(QuickstartConfig, config, overrides or [], base=base)
