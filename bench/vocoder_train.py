"""Vocoder training speed on CPU: optimizer steps per second, fp32 vs bf16 autocast, for each kind.

Each step is what ``spokenlm train-vocoder`` runs (generator losses, and for ``--gan`` the MPD +
MSD discriminator and adversarial losses), on crops of real speech (the LJSpeech test clips,
units from an MFCC k-means tokenizer fitted here). Precisions alternate within each round so
machine load hits both alike; the ratio column is fp32 time over bf16 time (medians). Final
losses after the same steps and seed are printed too: bf16 must train as well as fp32.

    python bench/vocoder_train.py --kinds unit-mel unit-istft --steps 20 --rounds 3
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time

import torch


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
    from spokenlm.perf import cpu_has_fast_bf16
    from spokenlm.audio.loader import AudioDataConfig
    from spokenlm.encoders.spectral import MfccConfig, MfccEncoder
    from spokenlm.tokenizers.fitting import fit_unit_tokenizer
    from spokenlm.tokenizers.quantizer import KMeansConfig
    from spokenlm.nn.losses import MultiScaleSTFTLoss
    from spokenlm.vocoders.corpus import load_vocoder_corpus, sample_batch
    from spokenlm.nn.discriminators import HiFiGANDiscriminator
    from spokenlm.vocoders.model import VocoderModelConfig, VocoderNet
    from spokenlm.vocoders.train import VocoderTrainConfig, loss_mel_config, resolve_model_config, train_step

    torch.set_num_threads(args.threads)
    console = Console()
    clips = sorted(glob.glob(args.clips))
    extractor = MfccEncoder(MfccConfig())
    tokenizer = fit_unit_tokenizer(extractor, [load_audio(c, extractor.sample_rate)[0] for c in clips], KMeansConfig(k=100, n_init=1), "mfcc-km100")
    console.print(f"CPU bf16 support (AMX / AVX-512 BF16): {cpu_has_fast_bf16()}; {len(clips)} clips")

    table = Table(title="vocoder training steps/s (median of rounds)")
    for column in ("kind", "fp32 steps/s", "bf16 steps/s", "bf16 speed-up", "fp32 final loss", "bf16 final loss"):
        table.add_column(column, justify="right")
    for kind in args.kinds:
        config = VocoderTrainConfig(tokenizer="(in memory)", data=AudioDataConfig(audio=[args.clips]),
                                    model=VocoderModelConfig(kind=kind, sample_rate=22050 if kind == "unit-mel" else 16000),
                                    segment_frames=64 if kind == "unit-mel" else 32, batch_size=8, stft_weight=10.0)
        model_config = resolve_model_config(config, tokenizer).validate()
        utterances, _, _ = load_vocoder_corpus(config.data, tokenizer, model_config, "none", config.speaker_pattern)
        mel_config, stft = loss_mel_config(model_config.sample_rate), MultiScaleSTFTLoss()
        hop = 0 if kind == "unit-mel" else model_config.hop_length
        gan = args.gan and kind != "unit-mel"
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        final: dict[str, float] = {}
        for _ in range(args.rounds):
            for precision in times:
                config.precision = precision
                torch.manual_seed(0)
                generator = torch.Generator().manual_seed(0)
                net = VocoderNet(model_config).train()
                disc = HiFiGANDiscriminator(config.discriminator) if gan else None
                optimizers = {"net": torch.optim.AdamW(net.parameters(), 1e-3)}
                if disc is not None:
                    optimizers["discriminator"] = torch.optim.AdamW(disc.parameters(), 1e-3)
                batches = [sample_batch(utterances, config.batch_size, config.segment_frames, hop, generator) for _ in range(args.steps + 1)]
                start = 0.0
                for step, batch in enumerate(batches):
                    if step == 1:  # the first step warms up kernels and is not timed
                        start = time.perf_counter()
                    losses = train_step(net, disc, optimizers, batch, config, mel_config, stft)
                times[precision].append((time.perf_counter() - start) / args.steps)
                final[precision] = losses["mel"]
        fp32, bf16 = statistics.median(times["fp32"]), statistics.median(times["bf16"])
        table.add_row(kind + (" +GAN" if gan else ""), f"{1 / fp32:.2f}", f"{1 / bf16:.2f}", f"{fp32 / bf16:.2f}",
                      f"{final['fp32']:.3f}", f"{final['bf16']:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
