"""Build a pair benchmark: make the pairs, speak them, write ``pairs.jsonl`` and a summary.

Each benchmark module registers a :class:`Benchmark` in :data:`BENCHMARKS`:
its config dataclass (with a ``synthesis`` field and a ``seed``) and a
function that turns the config and the picked voices into :class:`PairSpec` s.
:func:`build_benchmark` does the rest the same way for all of them; running it
again on the same folder resumes (finished audio is kept).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spokenlm.atomic import atomic_write_json
from spokenlm.benchmarks.manifest import MANIFEST_NAME, PairRecord, write_manifest
from spokenlm.benchmarks.synthesis import (
    Segment,
    Synthesizer,
    TtsModule,
    UtteranceSpec,
    select_voices,
    synthesize_all,
)
from spokenlm.config import save_config
from spokenlm.errors import SpokenLMError
from spokenlm.registry import Registry

SUMMARY_NAME = "build_summary.json"


@dataclass
class PairSpec:
    """A pair to speak: its manifest record and the two utterances behind ``record.positive``/``negative``."""

    record: PairRecord
    positive: UtteranceSpec
    negative: UtteranceSpec


@dataclass
class Benchmark:
    """A registered benchmark: its config class and ``make_pairs(config, out_dir, voices) -> list[PairSpec]``."""

    config_class: type
    make_pairs: Callable[[Any, Path, list[str]], list[PairSpec]]
    description: str


BENCHMARKS: Registry[Benchmark] = Registry("benchmark")


def voice_slug(voice: str) -> str:
    """A voice id made safe for file names (``espeak-ng:en-us+m3`` → ``espeak-ng_en-us_m3``)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", voice)


def make_pair(
    pair_id: str,
    subset: str,
    voice: str,
    positive: list[Segment],
    negative: list[Segment],
    positive_text: str,
    negative_text: str,
    **meta: Any,
) -> PairSpec:
    """A :class:`PairSpec` whose audio lives at ``audio/<pair_id>_pos.flac`` / ``_neg.flac``."""
    pos_key, neg_key = f"audio/{pair_id}_pos", f"audio/{pair_id}_neg"
    pos_phones = positive[0].phones if len(positive) == 1 else None
    neg_phones = negative[0].phones if len(negative) == 1 else None
    record = PairRecord(
        pair_id, subset, voice, f"{pos_key}.flac", f"{neg_key}.flac", positive_text, negative_text, pos_phones, neg_phones, meta
    )
    return PairSpec(record, UtteranceSpec(pos_key, positive), UtteranceSpec(neg_key, negative))


def voices_for_item(voices: list[str], index: int, per_item: int) -> list[str]:
    """The ``per_item`` voices that speak item ``index``: consecutive voices, rotating with the index."""
    count = min(per_item, len(voices))
    return [voices[(index + j) % len(voices)] for j in range(count)]


def _import_builtin_benchmarks() -> None:
    from spokenlm.benchmarks import salmon, sblimp, storycloze, swuggy  # noqa: F401 - registration


def benchmark(name: str) -> Benchmark:
    """The registered benchmark ``name`` (swuggy, sblimp, tstorycloze, sstorycloze, salmon)."""
    _import_builtin_benchmarks()
    return BENCHMARKS.get(name)


def benchmark_names() -> list[str]:
    """Names of every registered benchmark."""
    _import_builtin_benchmarks()
    return BENCHMARKS.names()


def build_benchmark(name: str, config: Any, out_dir: Path, synth: Synthesizer | None = None) -> dict[str, Any]:
    """Build benchmark ``name`` into ``out_dir``: ``pairs.jsonl``, ``audio/``, ``config.yaml``, ``build_summary.json``.

    Pairs whose audio could not be made are left out of the manifest and counted
    (with reasons) in the summary, which is also returned.
    """
    spec = benchmark(name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, out_dir)
    synth = synth or TtsModule()
    voices = select_voices(config.synthesis, config.seed, synth)
    pairs = spec.make_pairs(config, out_dir, voices)
    if not pairs:
        raise SpokenLMError(f"{name}: no pairs could be made from this config")
    utterances = [u for p in pairs for u in (p.positive, p.negative)]
    report = synthesize_all(utterances, out_dir, synth, config.synthesis, label=f"speaking {name}")
    kept = [p.record for p in pairs if p.positive.key not in report.failed and p.negative.key not in report.failed]
    write_manifest(out_dir / MANIFEST_NAME, kept)
    summary = {
        "benchmark": name,
        "pairs": len(kept),
        "skipped_pairs": len(pairs) - len(kept),
        "voices": voices,
        "subsets": dict(sorted(Counter(r.subset for r in kept).items())),
        "files_made": report.made,
        "files_kept": report.kept,
        "failures": dict(sorted(report.failed.items())),
    }
    atomic_write_json(out_dir / SUMMARY_NAME, summary)
    return summary
