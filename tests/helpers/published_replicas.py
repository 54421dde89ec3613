"""Tiny replicas of published benchmark releases, in their released layouts, spoken with real speech from tests/assets.

Each pair's outcome is planned: ``win`` puts a short clip on the positive side and a long one on the negative,
``lose`` the reverse, ``tie`` the short clip on both. With a scorer that gives every unit the same log-probability
(and units at a fixed frame rate), the shorter side wins the summed score and every pair ties per token, so the
accuracies of a replica are known by hand.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np

from helpers.paths import ASSETS
from spokenlm.audio.io import load_audio, save_audio

SHORT = ASSETS / "fsdd" / "0_george_1.flac"  # 0.59 s
LONG = ASSETS / "ljspeech" / "LJ001-0002.flac"  # 1.90 s
SIDES = {"win": (SHORT, LONG), "lose": (LONG, SHORT), "tie": (SHORT, SHORT)}


@cache
def _speech(path: Path) -> np.ndarray:
    return load_audio(path, 16000)[0]


def write_wav(path: Path, source: Path) -> Path:
    """``source`` speech as a 16 kHz WAV at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_audio(path, _speech(source), 16000)


# sLM21 lexical: (id, voice, frequency, length, outcome); by_pair means: a 0.5, b 1.0, c 0.25
LEXICAL_DEV = [("a", "v1", 0, 4, "win"), ("a", "v2", 0, 4, "lose"), ("b", "v1", 3, 4, "win"), ("b", "v2", 3, 4, "win"),
               ("c", "v1", 50, 6, "tie"), ("c", "v2", 50, 6, "lose")]
# sLM21 syntactic: (type, subtype, id, voice, outcome); by_pair means: 1 → 1.0, 2 → 0.0, 3 → 0.5
SYNTACTIC_DEV = [("morphology", "plural", "1", "v1", "win"), ("morphology", "plural", "1", "v2", "win"),
                 ("morphology", "plural", "2", "v1", "lose"), ("morphology", "plural", "2", "v2", "lose"),
                 ("syntax", "island", "3", "v1", "win"), ("syntax", "island", "3", "v2", "lose")]
LEXICAL_TEST = [("d", "v1", 200, 5, "win")]


def _write_gold(folder: Path, header: list[str], rows: list[list]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "gold.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_slm21(root: Path) -> Path:
    """``root/lexical/{dev,test}`` and ``root/syntactic/dev`` as the sLM21 release lays them out."""
    for split, plan in (("dev", LEXICAL_DEV), ("test", LEXICAL_TEST)):
        folder, rows = root / "lexical" / split, []
        for n, (item, voice, frequency, length, outcome) in enumerate(plan):
            for correct, source in zip((1, 0), SIDES[outcome]):
                name = f"lex{split}{n:02d}{correct}"
                write_wav(folder / f"{name}.wav", source)
                word = f"word{item}" if correct else ""  # the release leaves non-word spellings empty
                rows.append([name, item, voice, frequency, word, f"w {item} r d", length, correct])
        _write_gold(folder, ["filename", "id", "voice", "frequency", "word", "phones", "length", "correct"], rows)
    folder, good, bad = root / "syntactic" / "dev", [], []
    for n, (kind, subtype, item, voice, outcome) in enumerate(SYNTACTIC_DEV):
        for correct, source, rows in zip((1, 0), SIDES[outcome], (good, bad)):
            name = f"syn{n:02d}{correct}"
            write_wav(folder / f"{name}.wav", source)
            rows.append([name, item, voice, kind, subtype, f"sentence {n} {'good' if correct else 'bad'}", correct])
    _write_gold(folder, ["filename", "id", "voice", "type", "subtype", "transcription", "correct"], good + bad)
    return root


SALMON_PLAN = {"speaker_consistency": ["win", "win", "lose", "tie"], "bg_alignment": ["win", "lose"]}


def write_salmon(root: Path, plan: dict[str, list[str]] = SALMON_PLAN) -> Path:
    """SALMon task folders ``<task>/sample_<i>_{a,b}.wav`` (the positive sorts first)."""
    for task, outcomes in plan.items():
        for i, outcome in enumerate(outcomes):
            for side, source in zip("ab", SIDES[outcome]):
                write_wav(root / task / f"sample_{i}_{side}.wav", source)
    return root


def write_storycloze(root: Path, outcomes: list[str]) -> Path:
    """A flat spoken-StoryCloze folder ``<i>_correct.wav`` / ``<i>_incorrect.wav``."""
    for i, outcome in enumerate(outcomes):
        for side, source in zip(("correct", "incorrect"), SIDES[outcome]):
            write_wav(root / f"{i}_{side}.wav", source)
    return root
