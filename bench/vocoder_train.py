"""Vocoder training speed on CPU: optimizer steps per second, fp32 vs bf16 autocast, for each kind.

Each run is ``spokenlm train-vocoder`` itself (the vocoder task on the training loop: generator losses,
and for ``--gan`` the MPD + MSD discriminator phase and adversarial losses), on crops of real speech
(the LJSpeech test clips, units from an MFCC k-means tokenizer fitted here). Precisions alternate
within each round so machine load hits both alike; steps/s is the median over the timed steps (the
first step of a run warms up kernels and is left out), and the ratio column is fp32 time over bf16
time. Final mel losses after the same steps and seed are printed too: bf16 must train as well as fp32.

    python bench/vocoder_train.py --kinds unit-mel unit-istft --steps 20 --rounds 3
"""

from __future__ import annotations

import argparse
import glob
import json
import statistics
import tempfile
from pathlib import Path



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", default="tests/assets/ljspeech/*.flac")
    parser.add_argument("--kinds", nargs="+", default=["unit-mel", "unit-istft", "unit-hifigan"])
    parser.add_argument("--steps", type=int, default=20, help="timed optimizer steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gan", action="store_true", help="include discriminators (direct kinds)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from spokenlm.audio.io import load_audio
    from spokenlm.audio.loader import AudioDataConfig
    from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
    from spokenlm.perf import cpu_has_fast_bf16
    from spokenlm.tokenizers.fitting import fit_unit_tokenizer
    from spokenlm.tokenizers.quantizer import KMeansConfig
    from spokenlm.train.config import OptimConfig
    from spokenlm.train.tasks.vocoder import VocoderTrainConfig, train_vocoder
    from spokenlm.vocoders.model import VocoderModelConfig

    console = Console()
    work = Path(tempfile.mkdtemp(prefix="vocoder-train-bench-"))
    clips = sorted(glob.glob(args.clips))
    encoder = MfccEncoder(MfccConfig())
    tokenizer = fit_unit_tokenizer(encoder, [load_audio(c, encoder.sample_rate)[0] for c in clips], KMeansConfig(k=100, n_init=1), "mfcc-km100")
    tokenizer.save_pretrained(work / "tokenizer")
    console.print(f"CPU bf16 support (AMX / AVX-512 BF16): {cpu_has_fast_bf16()}; {len(clips)} clips; runs in {work}")

    table = Table(title="vocoder training steps/s (median of the timed steps of every round)")
    for column in ("kind", "fp32 steps/s", "bf16 steps/s", "bf16 speed-up", "fp32 final mel loss", "bf16 final mel loss"):
        table.add_column(column, justify="right")
    for kind in args.kinds:
        gan = args.gan and kind != "unit-mel"
        seconds: dict[str, list[float]] = {"fp32": [], "bf16": []}
        final: dict[str, float] = {}
        for round_ in range(args.rounds):
            for precision in seconds:
                config = VocoderTrainConfig(
                    tokenizer=str(work / "tokenizer"), data=AudioDataConfig(audio=[args.clips]),
                    model=VocoderModelConfig(kind=kind, sample_rate=22050 if kind == "unit-mel" else 16000),
                    segment_frames=64 if kind == "unit-mel" else 32, stft_weight=10.0, adversarial_start=0 if gan else 10**9,
                    optim=OptimConfig(lr=1e-3, schedule="constant", warmup_steps=0, max_steps=args.steps + 1, batch_size=8,
                                      weight_decay=0.01, decay_matrices_only=False, beta1=0.8, beta2=0.99, grad_clip=100.0),
                    precision=precision, threads=args.threads, log_every=1, save_every=0, device="cpu",
                )
                out = work / f"{kind}-{precision}-{round_}"
                train_vocoder(config, out)
                rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
                seconds[precision] += [config.optim.batch_size / row["crops_per_s"] for row in rows[1:]]
                final[precision] = rows[-1]["mel"]
        fp32, bf16 = statistics.median(seconds["fp32"]), statistics.median(seconds["bf16"])
        table.add_row(kind + (" +GAN" if gan else ""), f"{1 / fp32:.2f}", f"{1 / bf16:.2f}", f"{fp32 / bf16:.2f}",
                      f"{final['fp32']:.3f}", f"{final['bf16']:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
