"""Tokenization throughput on CPU: seconds of audio per wall second, per extractor, against feature extraction alone.

For each extractor, k-means (K units) is fitted on the clips' own features (not
timed); then the same clips are run through (a) feature extraction alone — the
baseline — and (b) the full ``UnitTokenizer`` (features + k-means assignment +
deduplication), both in this run. Printed per extractor and corpus: audio
seconds, × real time of each, the ratio (b)/(a), and the unit rate after
deduplication (units/s of audio) next to the frame rate.

    python bench/tokenize_throughput.py                         # mfcc, log-mel, whisper-base (CTranslate2)
    python bench/tokenize_throughput.py --hubert runs/hubert-tiny-km100/extractor --threads 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
CORPORA = {"ljspeech": "tests/assets/ljspeech/*.flac", "fsdd": "tests/assets/fsdd/*.flac"}


def load_corpus(pattern: str, sample_rate: int) -> list[np.ndarray]:
    from spokenlm.audio.io import load_audio

    return [load_audio(p, sample_rate)[0] for p in sorted(REPO.glob(pattern))]


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--extractors", nargs="+", default=["mfcc", "log-mel", "ct2-whisper"], help="extractor types to run")
    parser.add_argument("--hubert", type=Path, help="a saved own-HuBERT extractor folder (e.g. TOKENIZER/extractor) to add")
    parser.add_argument("--hf-ssl", type=Path, help="a local HF HuBERT/wav2vec2/WavLM folder to add (layer 6)")
    parser.add_argument("--k", type=int, default=100, help="k-means clusters")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--max-clips", type=int, default=0, help="use the first N clips of each corpus (0 = all)")
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    args = parser.parse_args()

    from rich.console import Console
    from rich.table import Table

    from spokenlm.encoders import build_encoder, load_encoder
    from spokenlm.tokenizers.quantizer import KMeansConfig, KMeansQuantizer
    from spokenlm.tokenizers.units import UnitTokenizer

    if args.threads:
        torch.set_num_threads(args.threads)
    extractors = {kind: build_encoder({"type": kind}) for kind in args.extractors}
    if args.hubert:
        extractors["own-hubert"] = load_encoder(args.hubert)
    if args.hf_ssl:
        extractors["hf-ssl"] = build_encoder({"type": "hf-ssl", "model_dir": str(args.hf_ssl), "layer": 6})
    table = Table(title=f"tokenize throughput (K={args.k}, torch threads {torch.get_num_threads()})")
    for column in ("extractor", "corpus", "audio s", "features ×RT", "tokenize ×RT", "tokenize / features", "frames/s", "units/s dedup"):
        table.add_column(column)
    for name, extractor in extractors.items():
        for corpus in args.corpora:
            wavs = load_corpus(CORPORA[corpus], extractor.sample_rate)[: args.max_clips or None]
            seconds = sum(w.size for w in wavs) / extractor.sample_rate
            extractor.extract_batch(wavs[:2])  # warm-up: lazy imports, filter banks, JIT
            feature_time, features = timed(extractor.extract_batch, wavs)
            quantizer = KMeansQuantizer.fit(features, KMeansConfig(k=args.k, algorithm="full", n_init=1))
            tokenizer = UnitTokenizer(extractor, quantizer, name=f"{name}-km{args.k}", dedup=True)
            tokenize_time, tokens = timed(tokenizer.encode, wavs, extractor.sample_rate)
            units = sum(len(t) for t in tokens)
            table.add_row(
                name, corpus, f"{seconds:.1f}", f"{seconds / feature_time:.1f}", f"{seconds / tokenize_time:.1f}",
                f"{tokenize_time / feature_time:.2f}", f"{tokenizer.frame_rate:g}", f"{units / seconds:.1f}",
            )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
