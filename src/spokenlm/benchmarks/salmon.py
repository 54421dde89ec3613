"""SALMon-style acoustic consistency: the second half of a sentence keeps vs switches speaker or background.

Each item is one sentence split in two halves at a word boundary, spoken as two
segments. Subset ``speaker``: positive keeps voice A, negative switches to
voice B. Subset ``background``: both halves are spoken by A over a synthetic
noise; positive keeps the noise colour, negative switches it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.benchmarks.build import BENCHMARKS, Benchmark, PairSpec, make_pair, voice_slug
from spokenlm.benchmarks.noise import NOISE_SLOPES
from spokenlm.benchmarks.synthesis import Segment, SynthesisConfig
from spokenlm.data.text_sources import read_sentences
from spokenlm.errors import SpokenLMError


@dataclass
class SalmonConfig:
    """SALMon-style build settings.

    Attributes:
        text: sentence source (empty: bundled LJSpeech transcripts).
        items_per_task: items in each of the two subsets (speaker, background).
        min_words / max_words: sentence length limits, in words.
        noises: background colours to draw from (white, pink, brown).
        seed: seeds sentence, voice and noise choice.
        synthesis: voices (at least two) and audio settings (``snr_db`` sets the background level).
    """

    text: str = ""
    items_per_task: int = 500
    min_words: int = 6
    max_words: int = 16
    noises: list[str] = field(default_factory=lambda: sorted(NOISE_SLOPES))
    seed: int = 0
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)


def halves(sentence: str) -> tuple[str, str]:
    """Split ``sentence`` at the word boundary nearest its middle."""
    words = sentence.split()
    middle = len(words) // 2
    return " ".join(words[:middle]), " ".join(words[middle:])


def make_salmon_pairs(config: SalmonConfig, out_dir: Path, voices: list[str]) -> list[PairSpec]:
    """``items_per_task`` speaker-switch pairs and as many background-switch pairs."""
    if len(voices) < 2:
        raise SpokenLMError("salmon needs at least two voices (synthesis.num_voices >= 2)")
    if len(config.noises) < 2:
        raise SpokenLMError("salmon needs at least two noises to switch between")
    rng = random.Random(config.seed)
    sentences = [s for s in read_sentences(config.text) if config.min_words <= len(s.split()) <= config.max_words]
    rng.shuffle(sentences)
    pairs = []
    for index, sentence in enumerate(sentences[: 2 * config.items_per_task]):
        first, second = halves(sentence)
        voice = voices[index % len(voices)]
        if index % 2 == 0:
            other = rng.choice([v for v in voices if v != voice])
            subset, positive = "speaker", [Segment(voice, first), Segment(voice, second)]
            negative = [Segment(voice, first), Segment(other, second)]
            switch = other
        else:
            noise, other = rng.sample(config.noises, 2)
            subset, positive = "background", [Segment(voice, first, noise=noise), Segment(voice, second, noise=noise)]
            negative = [Segment(voice, first, noise=noise), Segment(voice, second, noise=other)]
            switch = f"{noise}->{other}"
        pairs.append(make_pair(f"{subset}-{index:05d}-{voice_slug(voice)}", subset, voice, positive, negative, sentence, sentence, switch=switch))
    return pairs


BENCHMARKS.register("salmon")(
    Benchmark(SalmonConfig, make_salmon_pairs, "second half keeps vs switches speaker / background noise")
)
