"""CPU real-time factor of each vocoder, with HiFi-GAN V1 (universal weights) as the baseline in the same run.

RTF = synthesis seconds / audio seconds (lower is faster). Every clip is voiced by
every vocoder in turn (interleaved, best of ``--repeats``), so load from other
processes hits baseline and candidates alike; the speed-up column is the
baseline's total time over each vocoder's total time.

    python bench/vocoder_rtf.py                                   # architectures, random weights
    python bench/vocoder_rtf.py --tokenizer TOK --vocoder runs/voc-istft --vocoder runs/voc-mel

Vocoders measured:
- ``hifigan-v1 (mel)``: pretrained HiFi-GAN V1 on the clip's true log-mel (baseline);
- ``griffin-lim (mel)``: 32 fast Griffin-Lim iterations on the same mel;
- ``unit-istft`` / ``unit-hifigan`` default configs with random weights, on random 50 Hz units (speed only);
- each ``--vocoder`` folder on the ``--tokenizer``'s units of the clip (tokenizing is not timed);
  a unit-mel vocoder is timed with both mel vocoders (HiFi-GAN V1 and Griffin-Lim) on the same units.
"""

from __future__ import annotations

import argparse
import glob
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch


def best_time(fn: Callable[[], object], repeats: int) -> float:
    """Shortest wall time of ``repeats`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", default="tests/assets/ljspeech/*.flac", help="glob of real speech clips")
    parser.add_argument("--max-clips", type=int, default=8, help="use the first N clips")
    parser.add_argument("--tokenizer", help="tokenizer folder (needed with --vocoder)")
    parser.add_argument("--vocoder", action="append", default=[], help="trained vocoder folder (repeatable)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--repeats", type=int, default=2, help="timings per clip and vocoder (best kept)")
    args = parser.parse_args()

    from spokenlm.audio.io import load_audio
    from spokenlm.tokens import Tokens
    from spokenlm.vocoders import UnitVocoder, load_vocoder
    from spokenlm.vocoders.griffinlim import GriffinLim
    from spokenlm.vocoders.hifigan import HiFiGANConfig, load_universal_hifigan
    from spokenlm.audio.mel import HIFIGAN_MEL, vocoder_log_mel
    from spokenlm.vocoders.model import VocoderModelConfig

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    clips = sorted(glob.glob(args.clips))[: args.max_clips]
    if not clips:
        raise SystemExit(f"no clips match {args.clips}")
    hifigan, griffin_lim = load_universal_hifigan(), GriffinLim(HIFIGAN_MEL)
    random_units = {
        "unit-istft (random weights)": UnitVocoder(VocoderModelConfig(kind="unit-istft")),
        "unit-hifigan causal (random weights)": UnitVocoder(VocoderModelConfig(
            kind="unit-hifigan", hifigan=HiFiGANConfig(upsample_rates=[5, 4, 4, 4], upsample_kernel_sizes=[10, 8, 8, 8], causal=True))),
    }
    tokenizer = None
    trained = {}
    if args.vocoder:
        if not args.tokenizer:
            raise SystemExit("--vocoder needs --tokenizer")
        from spokenlm.tokenizers.base import load_tokenizer

        tokenizer = load_tokenizer(args.tokenizer)
        for path in args.vocoder:
            vocoder = load_vocoder(path)
            trained[f"{path} ({vocoder.config.kind}, {vocoder.config.mel_vocoder if vocoder.config.kind == 'unit-mel' else 'direct'})"] = vocoder
            if vocoder.config.kind == "unit-mel":  # the same unit→mel voiced by the other mel vocoder
                other = "griffin-lim" if vocoder.config.mel_vocoder == "hifigan-universal" else "hifigan-universal"
                trained[f"{path} (unit-mel, {other})"] = UnitVocoder(replace(vocoder.config, mel_vocoder=other), vocoder.net)

    totals: dict[str, float] = {}
    audio_seconds = 0.0
    for clip in clips:
        wav, sr = load_audio(clip, HIFIGAN_MEL.sample_rate)
        seconds = len(wav) / sr
        audio_seconds += seconds
        mel = vocoder_log_mel(wav)[None]
        units = Tokens(np.random.default_rng(0).integers(0, 100, (1, int(seconds * 50))), 50.0)
        jobs: dict[str, Callable[[], object]] = {
            "hifigan-v1 universal (mel)": lambda: hifigan(mel),
            "griffin-lim 32 it (mel)": lambda: griffin_lim(mel),
        }
        jobs.update({name: (lambda v=v: v(units)) for name, v in random_units.items()})
        if tokenizer is not None:
            tokens = tokenizer.encode(wav, sr)[0]
            jobs.update({name: (lambda v=v: v(tokens)) for name, v in trained.items()})
        with torch.inference_mode():
            for name, job in jobs.items():
                totals[name] = totals.get(name, 0.0) + best_time(job, args.repeats)

    baseline = totals["hifigan-v1 universal (mel)"]
    print(f"{len(clips)} clips, {audio_seconds:.1f} s of audio, {args.threads} thread(s), best of {args.repeats}")
    print(f"{'vocoder':60s} {'RTF':>8s} {'speed-up vs HiFi-GAN V1':>24s}")
    for name, total in totals.items():
        print(f"{name:60s} {total / audio_seconds:8.4f} {baseline / total:23.1f}x")


if __name__ == "__main__":
    main()
