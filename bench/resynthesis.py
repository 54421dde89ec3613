"""Resynthesis of held-out real speech: which tokenizer + vocoder keeps the words, against an MFCC-unit floor.

Held out: LJSpeech LJ001-0017…0032 of tests/assets (never fitted or trained on). Everything
else is fitted in this run on the training split of bench/tokenizer_quality.py (LJ001-0001…0016,
FSDD takes 1-4) plus a multi-voice TTS corpus of Harvard sentences:

* ``dmel16``: dMel, 16 bins per mel channel (27.6 kbit/s) → HiFi-GAN V1 universal, and the same
  tokens → Griffin-Lim (the fast vocoder, against HiFi-GAN V1 on the same units);
* ``mel-rvq``: residual k-means of mel frames, 8 × 1024 (6.9 kbit/s), also scored with its
  first 4 and 2 codebooks → HiFi-GAN V1 universal;
* ``mfcc-km100 + unit-mel`` (the floor): MFCC k-means units, deduplicated, voiced by a
  unit→mel vocoder trained here (recipes/vocoder-unit-mel-tiny.yaml, d-vector speaker) →
  HiFi-GAN V1 universal, and → Griffin-Lim;
* any ``--pair NAME=TOKENIZER[,VOCODER[,MEL_VOCODER]]`` trained elsewhere (MEL_VOCODER: a unit-mel
  vocoder's or mel tokenizer's ``griffin-lim`` / ``hifigan-universal``).

Every row is ``spokenlm eval resynth`` (Whisper-base WER/CER against the LJSpeech text and
against Whisper on the original, resemblyzer speaker similarity, DNSMOS, decoder RTF); the
original's WER is measured in the same run and "WER / orig" is the ratio the vocoder issue
asks about (goal ≤ 1.5). Stages are cached in ``--out``.

    python bench/resynthesis.py --out runs/bench-resynth
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from tokenizer_quality import TTS_VOICES, real_speech_cuts, tts_plus_real_corpus

REPO = Path(__file__).resolve().parents[1]
LJ = REPO / "tests" / "assets" / "ljspeech"


def held_out_clips() -> list[str]:
    """LJ001-0017…0032 (the test half of every bench's LJSpeech split)."""
    return [str(p) for p in sorted(LJ.glob("*.flac")) if int(p.stem.split("-")[1]) > 16]


def train_tokenizer(kind: str, recipe: str, overrides: list[str], out: Path):
    from spokenlm.tokenizers.base import load_tokenizer
    from spokenlm.train.tokenizer_recipes import TOKENIZER_RECIPES

    if (out / "config.json").is_file():
        return load_tokenizer(out)
    return TOKENIZER_RECIPES.get(kind)(REPO / "recipes" / recipe, overrides, out)


def train_floor_vocoder(tokenizer_dir: Path, manifest: Path, steps: int, out: Path) -> Path:
    from spokenlm.config import load_config
    from spokenlm.train.tasks.vocoder import VocoderTrainConfig, train_vocoder

    config = load_config(VocoderTrainConfig, REPO / "recipes" / "vocoder-unit-mel-tiny.yaml",
                         [f"tokenizer={tokenizer_dir}", f"data.manifest={manifest}", f"optim.max_steps={steps}"])
    train_vocoder(config, out)
    return out


def evaluate(name: str, tokenizer: Path, vocoder: Path | None, codebooks: int | None, mel_vocoder: str | None, out: Path) -> dict:
    from spokenlm.eval.resynth import ResynthConfig, run_resynthesis
    from spokenlm.audio.loader import AudioDataConfig

    if (out / "summary.json").is_file():
        return json.loads((out / "summary.json").read_text())
    config = ResynthConfig(tokenizer=str(tokenizer), vocoder=str(vocoder or ""), codebooks=codebooks, mel_vocoder=mel_vocoder,
                           data=AudioDataConfig(audio=held_out_clips()), references=str(LJ / "metadata.csv"),
                           out_dir=str(out), use_f0=False, f0=False)
    print(f"[{name}]", flush=True)
    return run_resynthesis(config, evaluate=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-resynth")
    parser.add_argument("--tts-sentences", type=int, default=300, help="Harvard sentences of the TTS part of the training corpus")
    parser.add_argument("--vocoder-steps", type=int, default=1500, help="steps of the floor's unit-mel vocoder")
    parser.add_argument("--rvq-codebooks", type=int, nargs="+", default=[2, 4, 8], help="residual mel codebooks to score")
    parser.add_argument("--pair", action="append", default=[], help="NAME=TOKENIZER[,VOCODER[,MEL_VOCODER]] trained elsewhere (repeatable)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from rich.console import Console
    from rich.table import Table

    from spokenlm.atomic import atomic_write_json
    from spokenlm.data.synth import SynthConfig, build_corpus
    from spokenlm.tokenizers.base import load_tokenizer

    out = args.out
    tts_dir = out / "tts"
    if not (tts_dir / "cuts.jsonl.gz").exists():
        build_corpus(SynthConfig(source="harvard", max_sentences=args.tts_sentences, voices=TTS_VOICES, test_voices=0, voices_per_sentence=2,
                                 dev_fraction=0.0, test_fraction=0.0, workers=2), tts_dir)
    manifest = tts_plus_real_corpus(tts_dir / "cuts.jsonl.gz", real_speech_cuts("train"), out / "train-corpus" / "cuts.jsonl.gz")
    data = [f"data.manifest={manifest}", "data.audio=[]"]

    pairs: list[tuple[str, Path, Path | None, int | None, str | None]] = []
    train_tokenizer("mel", "tokenizer-dmel.yaml", data, out / "dmel16")
    pairs += [("dmel16", out / "dmel16", None, None, None), ("dmel16 → griffin-lim", out / "dmel16", None, None, "griffin-lim")]
    train_tokenizer("mel", "tokenizer-mel-rvq.yaml", [*data, f"codebooks={max(args.rvq_codebooks)}"], out / "mel-rvq")
    pairs += [(f"mel-rvq k={k}", out / "mel-rvq", None, k, None) for k in sorted(args.rvq_codebooks, reverse=True)]
    train_tokenizer("kmeans", "tokenizer-mfcc-km.yaml", data, out / "mfcc-km100")
    vocoder = train_floor_vocoder(out / "mfcc-km100", manifest, args.vocoder_steps, out / "mfcc-km100-unit-mel")
    pairs += [("mfcc-km100 + unit-mel (floor)", out / "mfcc-km100", vocoder, None, None),
              ("mfcc-km100 + unit-mel → griffin-lim", out / "mfcc-km100", vocoder, None, "griffin-lim")]
    for spec in args.pair:
        name, _, paths = spec.partition("=")
        tokenizer, vocoder_dir, mel_vocoder = (paths.split(",") + ["", ""])[:3]
        pairs.append((name, Path(tokenizer), Path(vocoder_dir) if vocoder_dir else None, None, mel_vocoder or None))

    rows = []
    for name, tokenizer, vocoder_dir, codebooks, mel_vocoder in pairs:
        folder = out / "eval" / name.split(" ")[0].replace("=", "") / (mel_vocoder or str(codebooks or "all"))
        summary = evaluate(name, tokenizer, vocoder_dir, codebooks, mel_vocoder, folder)
        tok = load_tokenizer(tokenizer)
        if codebooks:
            tok = tok.with_num_codebooks(codebooks)
        bitrate = getattr(tok, "bitrate", None)
        rows.append({"name": name, "bitrate": bitrate, **summary})

    table = Table(title="Resynthesis of held-out LJSpeech (LJ001-0017…0032), Whisper-base; original measured in the same run")
    for column in ("tokenizer + vocoder", "kbit/s", "WER", "WER / orig", "CER", "WER vs ASR(orig)", "spk sim", "DNSMOS", "RTF"):
        table.add_column(column, justify="right")
    fmt = lambda v, spec: "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)  # noqa: E731
    original = rows[0]
    table.add_row("original", "-", fmt(original.get("wer_original"), ".3f"), "1.00", fmt(original.get("cer_original"), ".3f"), "0", "1", fmt(original.get("dnsmos_original"), ".2f"), "-")
    for r in rows:
        table.add_row(r["name"], fmt(r["bitrate"] / 1000 if r["bitrate"] else None, ".1f"), fmt(r.get("wer_resynth"), ".3f"), fmt(r.get("wer_ratio"), ".2f"),
                      fmt(r.get("cer_resynth"), ".3f"), fmt(r.get("wer_vs_original"), ".3f"), fmt(r.get("speaker_similarity"), ".3f"),
                      fmt(r.get("dnsmos_resynth"), ".2f"), fmt(r.get("rtf"), ".3f"))
    Console(width=200).print(table)
    atomic_write_json(out / "resynthesis.json", {"rows": rows, "held_out": held_out_clips(), "args": {k: str(v) for k, v in vars(args).items()}})
    print(f"wrote {out / 'resynthesis.json'}")


if __name__ == "__main__":
    main()
