"""Codec benchmark: bitrate vs resynthesis quality and CPU speed per number of codebooks, and content per RVQ level.

For a trained codec (and optionally a mixed tokenizer), on held-out real speech
that no recipe trains on — the 10 transcribed speechbrain Harvard clips (2 speakers) and the
LibriVox clips (1 speaker) of tests/assets — for each number of codebooks k:

* bitrate (bit/s);
* resynthesis WER: Whisper-base on decode(encode(x)) against the reference text and
  against Whisper on the original (the baseline row "original" is measured in this run),
  pooled over the clips and as the median clip's WER (one Whisper repetition loop on a
  degraded clip can push the pooled WER past 100 %);
* log-mel L1 distance to the original (lower is better), speaker similarity
  (resemblyzer cosine to the original), DNSMOS OVRL and its ratio to the original's;
* encode and decode real-time factor on this CPU (seconds of compute per second of audio),
  and their ratio to k = 1 measured in the same run.

Content per level (issue 7): phones from the LibriVox reference alignments and
pocketsphinx alignments of the Harvard clips; for each RVQ level, PNMI of its ids
against frame phone labels; ABX (within / across speakers) of level 1's code
vectors and of the sum of levels 2..K — for the codec and the mixed tokenizer side by side.

    python bench/codec.py --codec runs/codec/tokenizer --mixed runs/mixed/tokenizer --out runs/bench-codec.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "assets"
SR = 16000


def held_out() -> list[dict]:
    """Held-out utterances: id, speaker, wav [samples] at 16 kHz, reference text, phone segments."""
    from spokenlm.align.formats import read_pocketsphinx_json
    from spokenlm.align.pocketsphinx_aligner import align
    from spokenlm.audio.io import load_audio

    items = []
    texts = {}
    for name in ("ASR_train.json", "ASR_dev.json"):
        texts.update({k: v["wrd"].lower() for k, v in json.loads((DATA / "speechbrain" / "annotation" / name).read_text()).items()})
    for path in sorted((DATA / "speechbrain" / "ASR").glob("*.wav")):
        if path.stem not in texts:  # snt3 and snt6 have no transcript in the annotation files
            continue
        wav, _ = load_audio(path, SR)
        text = texts[path.stem]
        items.append({"id": path.stem, "speaker": path.stem.split("_")[0], "wav": wav, "text": text, "phones": align(wav, SR, text, path)})
    for path in sorted((DATA / "librivox").glob("*.wav")):
        wav, _ = load_audio(path, SR)
        phones = read_pocketsphinx_json(path.with_suffix(".phone.json"))
        items.append({"id": path.stem, "speaker": "librivox", "wav": wav, "text": path.with_suffix(".txt").read_text().strip(), "phones": phones})
    return items


def log_mel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |log-mel(a) - log-mel(b)| over the common length (80 mels, 16 kHz)."""
    from spokenlm.audio.features import MelConfig, log_mel

    n = min(len(a), len(b))
    config = MelConfig(sample_rate=SR)
    return float((log_mel(a[:n], config) - log_mel(b[:n], config)).abs().mean())


def quality_rows(tokenizer, items: list[dict], codebooks: list[int], asr) -> list[dict]:
    """One row per number of codebooks (plus the "original" baseline row first)."""
    from rich.progress import track

    from spokenlm.eval.dnsmos import dnsmos
    from spokenlm.eval.speaker import speaker_similarity
    from spokenlm.eval.wer import error_rates

    seconds = sum(len(u["wav"]) for u in items) / SR
    originals = [asr.transcribe(u["wav"], SR) for u in track(items, description="ASR of the originals", transient=True)]
    original_mos = float(np.mean([dnsmos(u["wav"], SR)["ovrl"] for u in items]))

    def median_clip_wer(hypotheses: list[str]) -> float:
        return float(np.median([error_rates([u["text"]], [h])["wer"] for u, h in zip(items, hypotheses)]))

    rows = [{"codebooks": 0, "label": "original", "bitrate": 256000.0, "wer_vs_text": error_rates([u["text"] for u in items], originals)["wer"],
             "wer_median_clip": median_clip_wer(originals),
             "wer_vs_original_asr": 0.0, "log_mel_l1": 0.0, "speaker_similarity": 1.0, "dnsmos": original_mos, "dnsmos_ratio": 1.0}]
    for k in codebooks:
        coder = tokenizer.with_num_codebooks(k)
        start = time.perf_counter()
        tokens = [coder.encode(u["wav"], SR)[0] for u in items]
        encode_s = time.perf_counter() - start
        start = time.perf_counter()
        outputs = [coder.decode(t)[: len(u["wav"])] for t, u in zip(tokens, items)]
        decode_s = time.perf_counter() - start
        hypotheses = [asr.transcribe(y, SR) for y in track(outputs, description=f"{tokenizer.name} k={k}: ASR", transient=True)]
        mos = float(np.mean([dnsmos(y, SR)["ovrl"] for y in outputs]))
        rows.append({
            "codebooks": k, "label": f"k={k}", "bitrate": coder.bitrate,
            "wer_vs_text": error_rates([u["text"] for u in items], hypotheses)["wer"],
            "wer_median_clip": median_clip_wer(hypotheses),
            "wer_vs_original_asr": error_rates(originals, hypotheses)["wer"],
            "log_mel_l1": float(np.mean([log_mel_distance(u["wav"], y) for u, y in zip(items, outputs)])),
            "speaker_similarity": float(np.mean([speaker_similarity(u["wav"], y, SR) for u, y in zip(items, outputs)])),
            "dnsmos": mos, "dnsmos_ratio": mos / original_mos,
            "encode_rtf": encode_s / seconds, "decode_rtf": decode_s / seconds,
            "example_asr": hypotheses[0],
        })
    first = rows[1]
    for row in rows[1:]:
        row["encode_rtf_vs_k1"] = row["encode_rtf"] / first["encode_rtf"]
        row["decode_rtf_vs_k1"] = row["decode_rtf"] / first["decode_rtf"]
    return rows


def content_by_level(tokenizer, items: list[dict], pool_contexts: bool) -> dict:
    """PNMI of every level's ids; ABX and PNMI of level 1 vs levels 2..K (code vectors).

    ``pool_contexts`` forms ABX triplets across phone contexts (many more triplets on a small held-out set).
    """
    from spokenlm.eval.abx import AbxConfig
    from spokenlm.eval.tokenizer_eval import EvalCorpus, EvalUtterance, score_representation

    corpus = EvalCorpus([EvalUtterance(u["id"], u["speaker"], u["wav"], u["phones"]) for u in items], [])
    ids = {u["id"]: tokenizer.encode(u["wav"], SR)[0].ids for u in items}  # [K, T]
    levels = tokenizer.model.quantizer.levels
    with torch.no_grad():
        vectors = {key: [levels[k].lookup(torch.from_numpy(v[k])).numpy() for k in range(len(v))] for key, v in ids.items()}  # K x [T, D]
    rate = tokenizer.frame_rate
    abx = AbxConfig(use_context=not pool_contexts)
    first = score_representation(corpus, {k: v[0] for k, v in ids.items()}, rate, {k: v[0] for k, v in vectors.items()}, rate, abx)
    rest = score_representation(corpus, {k: v[1] for k, v in ids.items()}, rate, {k: np.sum(v[1:], axis=0) for k, v in vectors.items()}, rate, abx)
    per_level = []
    for level in range(tokenizer.num_streams):
        per_level.append(score_representation(corpus, {k: v[level] for k, v in ids.items()}, rate).pnmi)
    return {"level1": asdict(first), "levels2toK": asdict(rest), "pnmi_per_level": per_level}


def print_quality(name: str, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{name}: resynthesis of held-out real speech (baseline: the original audio, same run)")
    for column in ("k", "kbit/s", "WER vs text", "median clip WER", "WER vs ASR(orig)", "log-mel L1", "spk sim", "DNSMOS", "×orig", "enc RTF", "dec RTF", "enc ×k1", "dec ×k1"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(r["label"], f"{r['bitrate'] / 1000:.1f}", f"{r['wer_vs_text']:.3f}", f"{r['wer_median_clip']:.3f}", f"{r['wer_vs_original_asr']:.3f}", f"{r['log_mel_l1']:.3f}",
                      f"{r['speaker_similarity']:.3f}", f"{r['dnsmos']:.2f}", f"{r['dnsmos_ratio']:.2f}",
                      *(f"{r[c]:.3f}" if c in r else "-" for c in ("encode_rtf", "decode_rtf", "encode_rtf_vs_k1", "decode_rtf_vs_k1")))
    Console().print(table)


def print_content(results: dict[str, dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="phone content per RVQ level (held-out speech; lower ABX / higher PNMI = more phonetic)")
    for column in ("tokenizer", "part", "PNMI", "ABX within (vectors)", "ABX across (vectors)", "ABX within (ids)", "ABX across (ids)"):
        table.add_column(column, justify="right")
    fmt = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
    for name, result in results.items():
        for part in ("level1", "levels2toK"):
            r = result[part]
            table.add_row(name, part, fmt(r["pnmi"]), fmt(r["abx_features_within"]), fmt(r["abx_features_across"]), fmt(r["abx_units_within"]), fmt(r["abx_units_across"]))
        table.add_row(name, "PNMI per level", " ".join(f"{p:.3f}" for p in result["pnmi_per_level"]), "", "", "", "")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codec", required=True, help="trained codec tokenizer folder")
    parser.add_argument("--mixed", help="trained mixed tokenizer folder (content comparison with the codec)")
    parser.add_argument("--codebooks", default="", help="comma-separated numbers of codebooks (default 1..K)")
    parser.add_argument("--mixed-codebooks", default="1,8", help="numbers of codebooks for the mixed tokenizer's quality rows")
    parser.add_argument("--parts", default="quality,content", help="what to measure: quality (resynthesis table), content (per-level ABX/PNMI), or both")
    parser.add_argument("--abx-pool-contexts", action="store_true", help="ABX triplets across phone contexts (more triplets on small sets)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for the RTF measurement")
    parser.add_argument("--out", default="runs/bench-codec.json", help="JSON results")
    args = parser.parse_args()

    from spokenlm.eval.asr import load_asr
    from spokenlm.tokenizers.base import load_tokenizer

    torch.set_num_threads(args.threads)
    items = held_out()
    asr = load_asr("whisper") if "quality" in args.parts else None
    results: dict = {"held_out": {"utterances": len(items), "seconds": sum(len(u["wav"]) for u in items) / SR}}
    parts = set(args.parts.split(","))
    tokenizers = [load_tokenizer(args.codec)] + ([load_tokenizer(args.mixed)] if args.mixed else [])
    if "quality" in parts:
        codec = tokenizers[0]
        ks = [int(k) for k in args.codebooks.split(",")] if args.codebooks else list(range(1, codec.num_streams + 1))
        mixed_ks = [int(k) for k in args.mixed_codebooks.split(",")]
        for tokenizer, key, numbers in zip(tokenizers, ("codec", "mixed"), (ks, mixed_ks)):
            results[key] = quality_rows(tokenizer, items, numbers, asr)
            print_quality(tokenizer.name, results[key])
    if "content" in parts:
        results["content"] = {t.name: content_by_level(t, items, args.abx_pool_contexts) for t in tokenizers}
        print_content(results["content"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
