"""Plan a synthetic corpus: which voices, which split each document goes to, who speaks what.

The plan is a pure function of the config (and the installed voices), so a rerun
makes the same plan and can skip what is already done. Test voices and test
sentences are disjoint from training: documents are split as wholes, and a
dev/test sentence whose text also occurs in train is dropped.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from spokenlm.data.text_item import TextItem
from spokenlm.data.tts import Voice, available_voices
from spokenlm.errors import SpokenLMError


@dataclass(frozen=True)
class SynthJob:
    """One utterance to synthesize: ``id`` is ``<text id>_<voice slug>``; ``audio`` is relative to the corpus folder."""

    id: str
    text: str
    voice: str
    split: str
    doc_id: str
    index: int
    text_id: str

    @property
    def audio(self) -> str:
        return f"audio/{Voice.parse(self.voice).slug}/{self.id}.flac"


def _interleave(groups: Sequence[Sequence[Voice]]) -> list[Voice]:
    out = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


def _spread_espeak(voices: Sequence[Voice], rng: random.Random) -> list[Voice]:
    """Order espeak-ng voices so that accents and variants both change from one voice to the next."""
    accents = sorted({v.name.split("+")[0] for v in voices})
    variants = sorted({v.name.split("+")[1] for v in voices})
    rng.shuffle(accents)
    rng.shuffle(variants)
    names = {v.name for v in voices}
    order = [f"{accents[i % len(accents)]}+{variants[i % len(variants)]}" for i in range(len(accents) * len(variants))]
    seen: dict[str, None] = dict.fromkeys(n for n in order if n in names)
    return [Voice("espeak-ng", n) for n in seen] + [v for v in voices if v.name not in seen]


def _test_last(voices: list[Voice], test_voices: int) -> list[Voice]:
    """Move ``test_voices`` voices to the end, taken from the end but from as many engines as possible."""
    test: list[Voice] = []
    for voice in reversed(voices):
        if len(test) < test_voices and voice.engine not in {v.engine for v in test}:
            test.append(voice)
    for voice in reversed(voices):
        if len(test) < test_voices and voice not in test:
            test.append(voice)
    return [v for v in voices if v not in test] + test[::-1]


def select_voices(engines: Sequence[str], num_voices: int, seed: int, test_voices: int = 0) -> list[Voice]:
    """``num_voices`` installed voices of distinct :attr:`Voice.identity`, alternating between engines
    and, within espeak-ng, between accents and variants. The last ``test_voices`` (the test speakers)
    come from different engines where possible."""
    rng = random.Random(f"voices:{seed}")
    groups = []
    for engine in engines:
        group = available_voices([engine])
        if engine == "espeak-ng":
            group = _spread_espeak(group, rng)
        else:
            rng.shuffle(group)
        groups.append(group)
    chosen: list[Voice] = []
    for voice in _interleave(groups):
        if len(chosen) < num_voices and voice.identity not in {v.identity for v in chosen}:
            chosen.append(voice)
    if len(chosen) < num_voices:
        raise SpokenLMError(f"only {len(chosen)} distinct speakers installed for engines {', '.join(engines)}; {num_voices} requested")
    return _test_last(chosen, test_voices)


def accent_variants(voices: Sequence[Voice]) -> dict[str, list[Voice]]:
    """For each espeak-ng voice of ``voices``: every installed espeak-ng voice of the same speaker
    (:attr:`Voice.identity`, the variant) and language, i.e. the same speaker in each installed accent, its own first."""
    installed = available_voices(["espeak-ng"])
    out = {}
    for voice in voices:
        if voice.engine == "espeak-ng":
            same = [v for v in installed if v.identity == voice.identity and v.language == voice.language and v != voice]
            out[voice.id] = [voice, *same]
    return out


def _normalize(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def split_documents(items: Sequence[TextItem], dev_fraction: float, test_fraction: float, seed: int) -> dict[str, str]:
    """Map each ``doc_id`` to ``train``/``dev``/``test`` (at least one document each for a fraction > 0)."""
    docs = list(dict.fromkeys(item.doc_id for item in items))
    random.Random(f"split:{seed}").shuffle(docs)
    n_test = max(1, round(len(docs) * test_fraction)) if test_fraction > 0 else 0
    n_dev = max(1, round(len(docs) * dev_fraction)) if dev_fraction > 0 else 0
    if n_test + n_dev >= len(docs):
        raise SpokenLMError(f"{len(docs)} documents are too few for a train/dev/test split; add text or lower the fractions")
    return {doc: "test" if i < n_test else "dev" if i < n_test + n_dev else "train" for i, doc in enumerate(docs)}


def word_jobs(jobs: Sequence[SynthJob], voices: Sequence[Voice], count: int, seed: int,
              accents: Mapping[str, Sequence[Voice]] | None = None) -> list[SynthJob]:
    """``count`` single-word train utterances: word types of the train sentences of ``jobs`` (drawn uniformly over types,
    so rare words as often as common ones), each spoken by one of ``voices`` (or one of its ``accents``). Isolated words
    have the prosody of the pair benchmarks' items (sWUGGY), which running sentences never show a tokenizer."""
    if count < 0:
        raise SpokenLMError(f"isolated_words must be >= 0, got {count}")
    vocabulary = sorted({w for job in jobs if job.split == "train" for w in _normalize(job.text).split()})
    if count and not vocabulary:
        raise SpokenLMError("isolated_words needs train sentences to draw words from")
    rng = random.Random(f"words:{seed}")
    voices = list(voices)
    out = []
    for index in range(count):
        word, voice = rng.choice(vocabulary), rng.choice(voices)
        if accents and voice.id in accents:
            voice = rng.choice(list(accents[voice.id]))
        out.append(SynthJob(f"word{index:05d}_{voice.slug}", word, voice.id, "train", "isolated-words", index, f"word{index:05d}"))
    return out


def plan_jobs(
    items: Iterable[TextItem],
    voices: Sequence[Voice],
    test_voices: int,
    voices_per_sentence: int,
    dev_fraction: float,
    test_fraction: float,
    seed: int,
    accents: Mapping[str, Sequence[Voice]] | None = None,
    isolated_words: int = 0,
) -> list[SynthJob]:
    """Every utterance of the corpus in text order. Train and dev use the first voices, test the last ``test_voices``.

    With ``accents`` (voice id → the voices that speaker may speak as, e.g. :func:`accent_variants`), each train or
    dev sentence of such a voice is spoken by one of them, drawn per sentence; test voices speak as themselves.
    ``isolated_words`` single-word train utterances by the train voices follow (:func:`word_jobs`)."""
    items = list(items)
    if test_fraction > 0 and not 0 < test_voices < len(voices):
        raise SpokenLMError(f"test_voices must be between 1 and {len(voices) - 1} (got {test_voices} of {len(voices)} voices)")
    train_voices = list(voices[: len(voices) - test_voices]) if test_fraction > 0 else list(voices)
    held_out = list(voices[len(voices) - test_voices:]) if test_fraction > 0 else []
    shared = {v.identity for v in train_voices} & {v.identity for v in held_out}
    if shared:
        raise SpokenLMError(f"test voices must be other speakers than train voices; shared: {', '.join(sorted(shared))}")
    splits = split_documents(items, dev_fraction, test_fraction, seed)
    train_texts = {_normalize(i.text) for i in items if splits[i.doc_id] == "train"}
    jobs = []
    for item in items:
        split = splits[item.doc_id]
        if split != "train" and _normalize(item.text) in train_texts:
            continue
        pool = held_out if split == "test" else train_voices
        rng = random.Random(f"speakers:{seed}:{item.id}")
        for voice in rng.sample(pool, min(voices_per_sentence, len(pool))):
            if accents and split != "test" and voice.id in accents:
                voice = rng.choice(list(accents[voice.id]))
            jobs.append(SynthJob(f"{item.id}_{voice.slug}", item.text, voice.id, split, item.doc_id, item.index, item.id))
    return jobs + word_jobs(jobs, train_voices, isolated_words, seed, accents)
