"""Synthesis throughput: seconds of speech produced per wall second, per engine, and a 1-hour projection.

Every flite and festival voice and two espeak-ng voices speak the same Harvard
sentences (one process, including resampling to 16 kHz and the FLAC write of
the corpus builder). Ratios are against the first espeak-ng voice measured in
the same run, so machine load affects both sides. Then the demo voice mix is built with 2 workers on a
slice of the stories source, and the time for a 1-hour corpus is projected
from its measured rate.

    python bench/synth_throughput.py [--sentences 8] [--stories 12]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

from spokenlm.data.synth import PRESETS, build_corpus, synthesize_job
from spokenlm.data.synth_plan import SynthJob
from spokenlm.data.text_sources import harvard
from spokenlm.data.tts import Voice, available_voices

BASELINE = Voice("espeak-ng", "en-us+m1")


def voice_rate(voice: Voice, sentences: list[str], out_dir: Path) -> tuple[float, float]:
    """``(speech_seconds, wall_seconds)`` for ``voice`` speaking ``sentences`` serially."""
    speech = 0.0
    start = time.perf_counter()
    for i, text in enumerate(sentences):
        job = SynthJob(f"bench-{i:03d}_{voice.slug}", text, voice.id, "train", "bench", i, f"bench-{i:03d}")
        record = synthesize_job(job, out_dir, 16000)
        if "error" in record:
            raise RuntimeError(record["error"])
        speech += record["num_samples"] / 16000
    return speech, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=8, help="Harvard sentences per voice")
    parser.add_argument("--stories", type=int, default=12, help="stories for the 2-worker demo-mix run")
    args = parser.parse_args()
    console = Console(width=120)
    sentences = [item.text for item in islice(harvard(), args.sentences)]
    voices = [BASELINE, Voice("espeak-ng", "en-gb-scotland+f2"), *available_voices(["flite", "festival", "piper"])]
    with tempfile.TemporaryDirectory() as tmp:
        rates = {voice: voice_rate(voice, sentences, Path(tmp) / voice.slug) for voice in voices}
        config = replace(PRESETS["demo"], num_stories=args.stories, workers=2)
        start = time.perf_counter()
        result = build_corpus(config, Path(tmp) / "demo-mix")
        mix_wall = time.perf_counter() - start
    base = rates[BASELINE][0] / rates[BASELINE][1]
    table = Table(title=f"synthesis throughput, 1 worker, {args.sentences} Harvard sentences per voice")
    for column in ("voice", "speech s", "wall s", "speech s / wall s", "ratio vs baseline", "1 h, 2 workers (ideal)"):
        table.add_column(column, justify="left" if column == "voice" else "right")
    for voice, (speech, wall) in rates.items():
        rate = speech / wall
        name = f"{voice.id} (baseline)" if voice == BASELINE else voice.id
        table.add_row(name, f"{speech:.1f}", f"{wall:.2f}", f"{rate:.1f}", f"{rate / base:.2f}", f"{3600 / (2 * rate) / 60:.1f} min")
    console.print(table)
    mix_speech = result.stats.total_hours * 3600
    mix_rate = mix_speech / mix_wall
    console.print(
        f"demo voice mix ({config.num_voices} voices, 2 workers, {args.stories} stories): {mix_speech:.1f} s of speech "
        f"in {mix_wall:.1f} s = {mix_rate:.1f} speech s / wall s ({mix_rate / base:.2f} x the 1-worker baseline); "
        f"projected 1-hour corpus: {3600 / mix_rate / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
