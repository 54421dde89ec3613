"""sBLIMP: BLiMP's grammatical vs ungrammatical sentences, spoken by the same voice; subsets are phenomena."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from spokenlm.benchmarks.build import BENCHMARKS, Benchmark, PairSpec, make_pair, voice_slug, voices_for_item
from spokenlm.benchmarks.synthesis import Segment, SynthesisConfig
from spokenlm.errors import ConfigError, ManifestError


@dataclass
class SblimpConfig:
    """sBLIMP build settings.

    Attributes:
        blimp: a BLiMP ``.jsonl`` file or a folder of them (one per phenomenon).
        max_pairs_per_phenomenon: keep at most this many pairs of each phenomenon (0: all).
        seed: seeds the voice pick.
        synthesis: voices and audio settings.
    """

    blimp: str = ""
    max_pairs_per_phenomenon: int = 0
    seed: int = 0
    synthesis: SynthesisConfig = field(default_factory=SynthesisConfig)


def read_blimp(source: Path) -> list[dict]:
    """BLiMP items (``sentence_good``, ``sentence_bad``, ``UID``, ``pairID``) of a file or a folder of ``*.jsonl``."""
    files = sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    if not files or not files[0].is_file():
        raise ManifestError(f"{source}: no BLiMP .jsonl files")
    items = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                items.append({"good": item["sentence_good"], "bad": item["sentence_bad"], "uid": item.get("UID", path.stem), "id": str(item.get("pairID", number))})
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise ManifestError(f"{path}:{number}: not a BLiMP item ({err})") from err
    return items


def make_sblimp_pairs(config: SblimpConfig, out_dir: Path, voices: list[str]) -> list[PairSpec]:
    """One pair per (BLiMP item, voice)."""
    if not config.blimp:
        raise ConfigError("sblimp needs blimp=<BLiMP .jsonl file or folder>")
    per_phenomenon: dict[str, int] = {}
    items = []
    for item in read_blimp(Path(config.blimp)):
        per_phenomenon[item["uid"]] = per_phenomenon.get(item["uid"], 0) + 1
        if not config.max_pairs_per_phenomenon or per_phenomenon[item["uid"]] <= config.max_pairs_per_phenomenon:
            items.append(item)
    pairs = []
    for index, item in enumerate(items):
        for voice in voices_for_item(voices, index, config.synthesis.voices_per_item):
            pairs.append(
                make_pair(
                    f"{item['uid']}-{item['id']}-{voice_slug(voice)}",
                    item["uid"],
                    voice,
                    [Segment(voice, item["good"])],
                    [Segment(voice, item["bad"])],
                    item["good"],
                    item["bad"],
                )
            )
    return pairs


BENCHMARKS.register("sblimp")(Benchmark(SblimpConfig, make_sblimp_pairs, "BLiMP grammatical vs ungrammatical sentences"))
