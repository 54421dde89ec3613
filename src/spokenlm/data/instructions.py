"""Instruction data for speech-aware text LMs, made from a synthetic corpus's cuts and its engines' metadata.

Tasks (their instructions in :data:`INSTRUCTIONS`), each an instruction about one cut and a short text answer:

- ``asr``: "Transcribe the audio." → the transcript;
- ``qa``: a question about a story's opening sentence (:func:`spokenlm.data.stories.story_questions`) → one word;
- ``gender`` / ``accent`` / ``engine``: the voice's attributes (:mod:`spokenlm.data.tts.attributes`) and its speech engine;
- ``command``: a spoken request (:func:`command_sentences`, synthesized like any sentence) → its text answer.

Every example keeps its cut's split: the corpus's ``test`` split is spoken by held-out voices only and holds
held-out stories, so every task has held-out voices and stories; :func:`check_held_out` asks for at least
``min_voices`` held-out voices per attribute class. :func:`text_examples` gives the text-only material of the text
LM's first stage: the same tasks with the transcript in place of the audio (only those a transcript answers) and plain
sentences of the repository's text, never a held-out story.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from spokenlm.atomic import atomic_write_text
from spokenlm.data.stories import CREATURES, OBJECTS, plural, generate_stories, story_questions
from spokenlm.data.text_sources import harvard, ljspeech
from spokenlm.data.tts.attributes import voice_attributes
from spokenlm.data.tts.voice import Voice
from spokenlm.errors import ManifestError

NUMBER_WORDS = "one two three four five six seven eight nine ten eleven twelve".split()
INSTRUCTIONS = {
    "asr": "Transcribe the audio.",
    "gender": "Is the speaker male or female?",
    "accent": "What accent does the speaker have?",
    "engine": "Which speech engine is speaking?",
    "command": "Answer the spoken request.",
    "text": "Say a sentence.",
}
ATTRIBUTE_TASKS = ("gender", "accent")
TEXT_TASKS = ("asr", "qa", "command")  # the tasks a transcript answers
VOICE_TASKS = (*ATTRIBUTE_TASKS, "engine")  # the tasks about the voice


@dataclass
class Example:
    """One instruction example.

    Attributes:
        id: ``<cut id>:<task>`` (text-only examples: ``text:<item id>:<task>``).
        cut_id: the cut whose audio is the speech (empty for plain text).
        task: an :data:`INSTRUCTIONS` key (``text``: a plain sentence).
        instruction / answer: the user's instruction and the expected answer (text).
        transcript: what the audio says (the text-only stand-in for the speech).
        split: the cut's split (``train`` / ``dev`` / ``test``).
        speaker: the voice id (``espeak-ng:en-gb+f2``).
    """

    id: str
    cut_id: str
    task: str
    instruction: str
    answer: str
    transcript: str
    split: str
    speaker: str = ""


# ------------------------------------------------------------------ spoken commands
COMMANDS: list[tuple[str, Callable[[str], str], Callable[[Any], str]]] = [
    (r"What is the plural of (\w+)\?", plural, lambda r: r.choice(CREATURES + OBJECTS)),
    (r"Say the word (\w+) two times\.", lambda w: f"{w} {w}", lambda r: r.choice(OBJECTS)),
    (r"What number comes after (\w+)\?", lambda n: NUMBER_WORDS[NUMBER_WORDS.index(n) + 1], lambda r: r.choice(NUMBER_WORDS[:-1])),
]


def command_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` spoken requests (``"What is the plural of fox?"`` …), cycling through the templates of :data:`COMMANDS`."""
    import random

    r = random.Random(f"commands:{seed}")
    out = []
    for i in range(count):
        pattern, _, draw = COMMANDS[i % len(COMMANDS)]
        out.append(re.sub(r"\(\\w\+\)", draw(r), pattern).replace("\\", ""))
    return out


def write_command_text(path: str | Path, count: int, seed: int = 0) -> Path:
    """The requests of :func:`command_sentences` as a text source for ``spokenlm data synth`` (one per document)."""
    atomic_write_text(path, "\n\n".join(command_sentences(count, seed)) + "\n")
    return Path(path)


def command_answer(text: str) -> str | None:
    """The answer to a spoken request of :data:`COMMANDS` (``None``: ``text`` is not one)."""
    for pattern, answer, _ in COMMANDS:
        match = re.fullmatch(pattern, text.strip())
        if match:
            return answer(match.group(1))
    return None


# ------------------------------------------------------------------ examples from cuts
def cut_examples(cut_id: str, supervision: Any, story_seed: int) -> Iterator[Example]:
    """The examples of one synthesized cut (its supervision has ``text``, ``speaker`` and our custom fields)."""
    custom = supervision.custom or {}
    text, speaker, split = supervision.text or "", supervision.speaker or "", custom.get("split", "train")

    def example(task: str, instruction: str, answer: str) -> Example:
        return Example(f"{cut_id}:{task}", cut_id, task, instruction, answer, text, split, speaker)

    yield example("asr", INSTRUCTIONS["asr"], text)
    doc, index = str(custom.get("doc_id", "")), custom.get("sentence_index")
    if doc.startswith("story-") and index is not None:
        question = story_questions(int(doc.split("-")[1]), story_seed).get(int(index))
        if question:
            yield example("qa", *question)
    answer = command_answer(text)
    if answer is not None:
        yield example("command", INSTRUCTIONS["command"], answer)
    if ":" in speaker:
        attributes = voice_attributes(speaker)
        for task in ATTRIBUTE_TASKS:
            value = getattr(attributes, task)
            if value is not None:
                yield example(task, INSTRUCTIONS[task], value)
        yield example("engine", INSTRUCTIONS["engine"], Voice.parse(speaker).engine)


def describe_voice(speaker: str) -> str:
    """A text stand-in for a voice, for the text stage: ``"a female voice, british accent, by espeak-ng"``."""
    voice, attributes = Voice.parse(speaker), voice_attributes(speaker)
    return f"a {attributes.gender or 'unknown'} voice, {attributes.accent or 'unknown'} accent, by {voice.engine}"


def corpus_stories(corpus: str | Path) -> tuple[int, int]:
    """The story ``seed`` and ``num_stories`` of a ``spokenlm data synth`` corpus (its ``config.yaml``; the synth defaults 0
    and 200 when absent)."""
    import yaml

    config = Path(corpus) / "config.yaml"
    settings = (yaml.safe_load(config.read_text()) or {}) if config.is_file() else {}
    return int(settings.get("seed", 0)), int(settings.get("num_stories", 200))


def corpus_examples(corpus: str | Path) -> list[Example]:
    """Every example of every cut of ``corpus/cuts.jsonl.gz``, in cut order."""
    from spokenlm.audio.loader import iter_cuts

    corpus = Path(corpus)
    seed, _ = corpus_stories(corpus)
    return [e for cut in iter_cuts(corpus / "cuts.jsonl.gz") for s in cut.supervisions[:1] for e in cut_examples(cut.id, s, seed)]


def check_held_out(examples: Iterable[Example], min_voices: int = 2) -> dict[str, dict[str, int]]:
    """Held-out (``test``) voices per class of each attribute task; raises when a class has fewer than ``min_voices``."""
    voices: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for e in examples:
        if e.task in ATTRIBUTE_TASKS and e.split == "test":
            voices[e.task][e.answer].add(e.speaker)
    counts = {task: {cls: len(v) for cls, v in sorted(voices[task].items())} for task in ATTRIBUTE_TASKS}
    short = [f"{task} {cls}: {n}" for task, by in counts.items() for cls, n in by.items() if n < min_voices]
    if short or not all(counts.values()):
        raise ManifestError(f"held-out voices per attribute class must be >= {min_voices}; have {counts} ({', '.join(short) or 'a task has none'})")
    return counts


def text_examples(examples: Iterable[Example], num_stories: int, story_seed: int, held_out_docs: set[str],
                  ljspeech_sentences: int = 2000) -> list[Example]:
    """Text-only material: the train examples a transcript answers (asr, qa, command), the voice tasks with a description
    of the voice (:func:`describe_voice`) in place of the audio, and plain sentences: the first
    ``ljspeech_sentences`` LJSpeech transcripts, the Harvard sentences and ``num_stories`` stories except those in ``held_out_docs``."""
    from itertools import islice

    train = [e for e in examples if e.split == "train"]
    out = [e for e in train if e.task in TEXT_TASKS]
    out += [replace(e, transcript=describe_voice(e.speaker)) for e in train if e.task in VOICE_TASKS]
    stories = (i for i in generate_stories(num_stories, story_seed) if i.doc_id not in held_out_docs)
    sentences = [*islice(ljspeech(), ljspeech_sentences), *harvard(), *stories]
    out += [Example(f"text:{i.id}:text", "", "text", INSTRUCTIONS["text"], i.text, "", "train") for i in sentences]
    return out


def held_out_documents(corpus: str | Path) -> set[str]:
    """The ``doc_id`` of every dev and test cut of ``corpus`` (stories the text LM must never read)."""
    from spokenlm.audio.loader import iter_cuts

    return {str((s.custom or {}).get("doc_id")) for cut in iter_cuts(Path(corpus) / "cuts.jsonl.gz") for s in cut.supervisions
            if (s.custom or {}).get("split", "train") != "train"}


def write_examples(path: str | Path, examples: Iterable[Example]) -> int:
    """Write examples as JSONL (atomically); returns how many."""
    lines = [json.dumps(asdict(e)) for e in examples]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)


def read_examples(path: str | Path) -> list[Example]:
    """Examples written by :func:`write_examples`; a broken line is an error naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: instruction file not found")
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(Example(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as err:
            raise ManifestError(f"{path}:{number}: not an instruction example ({err})") from err
    return out
