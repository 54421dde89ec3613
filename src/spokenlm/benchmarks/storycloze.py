"""Spoken StoryCloze: a context with its true ending vs a wrong one.

- ``tstorycloze`` (topic variant): the context is ``context_sentences``
  consecutive sentences of a text read in order (by default the bundled
  LJSpeech books); the true ending is the next sentence, the wrong one a
  sentence of similar length from at least ``min_distance`` sentences away.
- ``sstorycloze``: the original StoryCloze CSV the user supplies (four
  sentences, two candidate endings, the right one marked).

Both sides are spoken in one go by the same voice; subsets are ``topic`` or ``story``.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.benchmarks.build import BENCHMARKS, Benchmark, PairSpec, make_pair, voice_slug, voices_for_item
from spokenlm.benchmarks.synthesis import Segment, SynthesisConfig
from spokenlm.data.text_sources import read_sentences
from spokenlm.errors import ConfigError, ManifestError


@dataclass
class TStoryClozeConfig:
    """tStoryCloze build settings.

    Attributes:
        text: text source read in order (empty: bundled LJSpeech transcripts).
        num_items: stories to make (each spoken by ``synthesis.voices_per_item`` voices).
        context_sentences: sentences of context before the ending.
        min_words / max_words: length limits of an ending, in words.
        length_tolerance: a wrong ending's word count is within this share of the true one's.
        min_distance: a wrong ending is at least this many sentences away from the story.
        seed: seeds the story and wrong-ending choice and the voice pick.
        synthesis: voices and audio settings.
    """

    text: str = ""
    num_items: int = 1000
    context_sentences: int = 2
    min_words: int = 4
    max_words: int = 20
    length_tolerance: float = 0.3
    min_distance: int = 500
    seed: int = 0
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)


def topic_stories(config: TStoryClozeConfig) -> list[tuple[str, str, str]]:
    """``(context, true ending, wrong ending)`` triples drawn from ``config.text``."""
    sentences = read_sentences(config.text)
    lengths = [len(s.split()) for s in sentences]
    fits = [config.min_words <= n <= config.max_words for n in lengths]
    rng = random.Random(config.seed)
    starts = [i for i in range(len(sentences) - config.context_sentences) if fits[i + config.context_sentences]]
    rng.shuffle(starts)
    stories = []
    for start in starts[: config.num_items]:
        end = start + config.context_sentences
        target = lengths[end]
        candidates = [
            j
            for j in rng.sample(range(len(sentences)), min(len(sentences), 400))
            if fits[j] and abs(j - end) >= config.min_distance and abs(lengths[j] - target) <= config.length_tolerance * target
        ]
        if candidates:
            stories.append((" ".join(sentences[start:end]), sentences[end], sentences[candidates[0]]))
    return stories


def read_storycloze_csv(path: Path) -> list[tuple[str, str, str]]:
    """``(context, right ending, wrong ending)`` triples of a StoryCloze CSV (``InputSentence1..4``,
    ``RandomFifthSentenceQuiz1/2``, ``AnswerRightEnding``)."""
    try:
        rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    except OSError as err:
        raise ManifestError(f"{path}: cannot read StoryCloze CSV ({err.strerror or err})") from err
    stories = []
    for number, row in enumerate(rows, 2):
        try:
            context = " ".join(row[f"InputSentence{i}"] for i in range(1, 5))
            endings = [row["RandomFifthSentenceQuiz1"], row["RandomFifthSentenceQuiz2"]]
            right = int(row["AnswerRightEnding"]) - 1
        except (KeyError, TypeError, ValueError) as err:
            raise ManifestError(f"{path}:{number}: not a StoryCloze row ({err})") from err
        stories.append((context, endings[right], endings[1 - right]))
    if not stories:
        raise ManifestError(f"{path}: no stories")
    return stories


def _story_pairs(stories: list[tuple[str, str, str]], subset: str, voices: list[str], per_item: int) -> list[PairSpec]:
    pairs = []
    for index, (context, right, wrong) in enumerate(stories):
        for voice in voices_for_item(voices, index, per_item):
            positive, negative = f"{context} {right}", f"{context} {wrong}"
            pairs.append(
                make_pair(
                    f"{index:05d}-{voice_slug(voice)}", subset, voice, [Segment(voice, positive)], [Segment(voice, negative)], positive, negative
                )
            )
    return pairs


def make_tstorycloze_pairs(config: TStoryClozeConfig, out_dir: Path, voices: list[str]) -> list[PairSpec]:
    """One pair per (story, voice) from consecutive sentences of the text."""
    return _story_pairs(topic_stories(config), "topic", voices, config.synthesis.voices_per_item)


@dataclass
class SStoryClozeConfig:
    """sStoryCloze build settings.

    Attributes:
        csv: the StoryCloze CSV (validation or test split).
        max_items: use at most this many stories (0: all).
        seed: seeds the voice pick.
        synthesis: voices and audio settings.
    """

    csv: str = ""
    max_items: int = 0
    seed: int = 0
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)


def make_sstorycloze_pairs(config: SStoryClozeConfig, out_dir: Path, voices: list[str]) -> list[PairSpec]:
    """One pair per (story, voice) from the user's StoryCloze CSV."""
    if not config.csv:
        raise ConfigError("sstorycloze needs csv=<StoryCloze CSV file>")
    stories = read_storycloze_csv(Path(config.csv))
    if config.max_items:
        stories = stories[: config.max_items]
    return _story_pairs(stories, "story", voices, config.synthesis.voices_per_item)


BENCHMARKS.register("tstorycloze")(
    Benchmark(TStoryClozeConfig, make_tstorycloze_pairs, "consecutive sentences: true next sentence vs one from elsewhere")
)
BENCHMARKS.register("sstorycloze")(
    Benchmark(SStoryClozeConfig, make_sstorycloze_pairs, "StoryCloze CSV: right vs wrong ending")
)
