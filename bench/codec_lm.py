"""Two multi-codebook LM shapes on the one training loop, end to end on CPU: a delay-pattern LM and a
depth-transformer LM over 8 codebooks of mel-RVQ tokens (residual k-means of HiFi-GAN log-mel frames).

Steps (each skipped when its output exists, so a rerun resumes):
1. ``spokenlm data synth``: Harvard sentences spoken by TRAIN_VOICES; the HELD_OUT voices speak only the
   test split (sentences unseen in training);
2. ``spokenlm train-tokenizer -c recipes/tokenizer-mel-rvq.yaml``: 8 codebooks × ``--codebook-size``, fitted on
   the train split; 3. ``spokenlm tokenize`` the train and test splits;
4. ``spokenlm train -c recipes/lm-delay-tiny.yaml`` and ``-c recipes/lm-depth-tiny.yaml``, side by side (one
   thread each), validated on the held-out voices;
5. per codebook, the validation loss against the unigram entropy of the training tokens (goal: ≥ 0.3 nats under);
6. ``spokenlm eval pairs`` (dedup=false) on a benchmark built here from the held-out utterances: each one
   forward vs time-reversed. Both sides hold the same frames in opposite order, so a model of frame
   statistics (the unigram row) sits at 50 %: accuracy measures whether an LM learned the direction of
   speech dynamics (onsets, decays, transitions);
7. continuations of held-out prompts (the first ``--prompt-seconds``), decoded by the tokenizer (HiFi-GAN V1
   universal), against the same number of frames drawn from each codebook's unigram distribution and decoded
   the same way; DNSMOS of each (goal: LMs above unigram), and of the real continuation resynthesized.

Writes results.json and audio/ (per prompt, the prompt followed by the real, delay, depth and unigram continuation) into ``--out``.

    python bench/codec_lm.py [--out runs/bench-codec-lm] [--steps 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from swuggy_lm import spokenlm

REPO = Path(__file__).resolve().parents[1]
TRAIN_VOICES = ["flite:slt", "flite:rms", "flite:kal16", "festival:kal_diphone", *(f"espeak-ng:{v}" for v in (
    "en-us+m1", "en-us+f1", "en-gb+m2", "en-gb+f2", "en-us+m4", "en-gb-x-rp+f4", "en-us+m5", "en-029+f3"))]
HELD_OUT = ["flite:awb", "espeak-ng:en-us+m3"]
SHAPES = {"delay": "recipes/lm-delay-tiny.yaml", "depth": "recipes/lm-depth-tiny.yaml"}
MARGIN = 0.3


def machine() -> str:
    """The CPU model (lscpu) and the load (uptime)."""
    cpu = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                if line.startswith("Model name")), "unknown CPU")
    return f"{cpu}, {os.cpu_count()} cores; {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"


def split_manifests(corpus: Path) -> dict[str, Path]:
    """``cuts_{train,test}.jsonl.gz`` of the synthesized corpus (dev stays unused)."""
    from lhotse import CutSet

    paths = {split: corpus / f"cuts_{split}.jsonl.gz" for split in ("train", "test")}
    if not all(p.exists() for p in paths.values()):
        cuts = CutSet.from_file(corpus / "cuts.jsonl.gz").to_eager()
        for split, path in paths.items():
            cuts.filter(lambda cut, s=split: cut.supervisions[0].custom["split"] == s).to_file(path)
    return paths


def train_lms(work: Path, tokens: dict[str, Path], steps: int) -> dict[str, dict]:
    """Train every shape at once (one process and one thread each); their summaries."""
    runs, logs = {}, {}
    for name, recipe in SHAPES.items():
        if not (work / name / "summary.json").exists():
            argv = ["train", "-c", recipe, f"data.train={tokens['train']}", f"data.val={tokens['test']}", f"out_dir={work / name}",
                    f"optim.max_steps={steps}", f"eval_every={steps}", f"save_every={steps}", "device=cpu"]
            print("$ spokenlm", " ".join(argv), f"> {work / name}.log", flush=True)
            logs[name] = open(work / f"{name}.log", "w")
            runs[name] = subprocess.Popen([sys.executable, "-m", "spokenlm", *argv], stdout=logs[name], stderr=subprocess.STDOUT, cwd=REPO,
                                          env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    for name, process in runs.items():
        failed = process.wait()
        logs[name].close()
        if failed:
            sys.exit(f"training {name} failed: {(work / f'{name}.log').read_text()[-3000:]}")
    return {name: json.loads((work / name / "summary.json").read_text()) for name in SHAPES}


def token_frames(tokens: Path) -> list[np.ndarray]:
    """Every utterance's unit frames ``[K, T]`` in a token corpus."""
    from spokenlm.data.shards import open_token_corpus

    return [t.ids.astype(np.int64) for reader in open_token_corpus(tokens) for _, t in reader]


class UnigramScorer:
    """A :class:`~spokenlm.eval.pairs.PairScorer` of frame statistics only: each codebook's unigram log-probabilities
    ``[K, V]``, summed over a sequence's frames (blind to their order)."""

    def __init__(self, log_probs: np.ndarray) -> None:
        self.log_probs = log_probs

    def log_likelihood(self, sequences, batch_size: int):
        import torch

        rows = range(len(self.log_probs))
        return (torch.tensor([float(sum(self.log_probs[k, s[k]].sum() for k in rows)) for s in sequences], dtype=torch.float64),
                torch.tensor([s.size for s in sequences]))


def unigram_log_probs(frames: list[np.ndarray], vocab_size: int) -> np.ndarray:
    """Add-½ smoothed unigram log-probabilities ``[K, V]`` of each codebook."""
    stacked = np.concatenate(frames, axis=1)
    counts = np.stack([np.bincount(row, minlength=vocab_size) for row in stacked]) + 0.5
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def reversal_benchmark(test_cuts: Path, out: Path) -> Path:
    """``pairs.jsonl`` + audio: every held-out utterance (positive) against itself time-reversed (negative)."""
    from lhotse import CutSet

    from spokenlm.audio.io import save_audio
    from spokenlm.benchmarks.manifest import PairRecord, write_manifest

    if (out / "pairs.jsonl").exists():
        return out
    records = []
    for cut in CutSet.from_file(test_cuts):
        wav = cut.load_audio()[0]
        for side, audio in (("fwd", wav), ("rev", wav[::-1].copy())):
            save_audio(out / "audio" / f"{cut.id}_{side}.flac", audio, cut.sampling_rate)
        text = cut.supervisions[0].text
        records.append(PairRecord(cut.id, "reversal", cut.supervisions[0].speaker, f"audio/{cut.id}_fwd.flac", f"audio/{cut.id}_rev.flac",
                                  text, text))
    write_manifest(out / "pairs.jsonl", records)
    return out


def score_benchmark(bench: Path, tokenizer_dir: Path, work: Path, log_probs: np.ndarray) -> dict[str, dict]:
    """Accuracy of each LM (``spokenlm eval pairs``) and of the unigram scorer on the reversal benchmark."""
    from spokenlm.benchmarks.manifest import read_manifest
    from spokenlm.eval.pairs import encode_pairs, score_pairs, summarize
    from spokenlm.tokenizers.base import load_tokenizer

    results = {}
    for name in SHAPES:
        if not (work / f"pairs-{name}" / "results.json").exists():
            spokenlm("eval", "pairs", str(work / f"pairs-{name}"), f"benchmark={bench}", f"tokenizer={tokenizer_dir}",
                     f"model={work / name / 'model'}", "dedup=false")
        results[name] = json.loads((work / f"pairs-{name}" / "results.json").read_text())
    encoded, _ = encode_pairs(read_manifest(bench), bench, load_tokenizer(tokenizer_dir), dedup=False)
    results["unigram"] = summarize(score_pairs(UnigramScorer(log_probs), encoded))
    return results


def continuation_quality(work: Path, tokenizer_dir: Path, tokens: dict[str, Path], log_probs: np.ndarray, args: argparse.Namespace) -> dict:
    """DNSMOS of LM continuations of held-out prompts, of unigram frames of the same length, and of the real continuation.

    Each system's frames are decoded after their prompt (audio/NN_SYSTEM.wav holds both, to listen to); DNSMOS scores
    the continuation's samples only."""
    from spokenlm.audio.io import save_audio
    from spokenlm.eval.dnsmos import dnsmos
    from spokenlm.eval.generative import TokenizerVoicer, UnitLMContinuer
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.tokenizers.base import load_tokenizer

    tokenizer = load_tokenizer(tokenizer_dir)
    voice = TokenizerVoicer(tokenizer)
    prompt_frames, new_frames = (round(s * tokenizer.frame_rate) for s in (args.prompt_seconds, args.continuation_seconds))
    utterances = [f for f in token_frames(tokens["test"]) if f.shape[1] >= prompt_frames + new_frames][: args.prompts]
    prompts = [f[:, :prompt_frames] for f in utterances]
    rng = np.random.default_rng(args.seed)
    probs = np.exp(log_probs)
    systems = {"real": [f[:, prompt_frames : prompt_frames + new_frames] for f in utterances]}
    for name in SHAPES:
        model = UnitLM.from_pretrained(work / name / "model")
        systems[name] = UnitLMContinuer(model).continue_units(prompts, new_frames, args.temperature, args.seed)
    systems["unigram"] = [np.stack([rng.choice(len(p), size=new_frames, p=p / p.sum()) for p in probs]) for _ in prompts]
    scores: dict[str, list[dict]] = {name: [] for name in systems}
    for i, prompt in enumerate(prompts):
        for name, continuations in systems.items():
            wav, sr = voice(np.concatenate([prompt, continuations[i]], axis=1))
            save_audio(work / "audio" / f"{i:02d}_{name}.wav", wav, sr)
            scores[name].append(dnsmos(wav[round(prompt_frames * sr / tokenizer.frame_rate) :], sr))
    unigram = [s["ovrl"] for s in scores["unigram"]]
    return {"prompts": len(prompts), "prompt_frames": prompt_frames, "continuation_frames": new_frames, "temperature": args.temperature,
            **{name: {m: float(np.mean([s[m] for s in rows])) for m in rows[0]}
               | {"ovrl_per_prompt": [s["ovrl"] for s in rows], "wins_over_unigram": float(np.mean([s["ovrl"] > u for s, u in zip(rows, unigram)]))}
               for name, rows in scores.items()}}


def report(summaries: dict[str, dict], pairs: dict[str, dict], quality: dict) -> dict:
    """Print the three tables and return the criteria."""
    entropies = summaries["delay"]["unigram_entropies"]  # the same training tokens for every shape
    print(f"\nvalidation loss per codebook (nats; held-out voices {', '.join(HELD_OUT)}) vs unigram entropy of the training tokens")
    print(f"{'codebook':>8s} {'unigram H':>9s} " + " ".join(f"{n + ' loss':>10s} {'margin':>6s}" for n in SHAPES))
    margins = {n: [h - loss for h, loss in zip(entropies, s["val_losses"])] for n, s in summaries.items()}
    for k, h in enumerate(entropies):
        print(f"{k:8d} {h:9.3f} " + " ".join(f"{summaries[n]['val_losses'][k]:10.3f} {margins[n][k]:6.2f}" for n in SHAPES))
    print("parameters: " + ", ".join(f"{n} {s['parameters']:,}" for n, s in summaries.items()))
    print(f"\nforward vs time-reversed held-out utterances, {pairs['unigram']['pairs']} pairs (eval pairs, dedup=false)")
    for name, res in pairs.items():
        print(f"  {name:8s} " + "  ".join(f"{v} {res[v]['value']:.3f} [{res[v]['low']:.3f}, {res[v]['high']:.3f}]" for v in ("summed", "normalized")))
    print(f"\nDNSMOS of {quality['continuation_frames']} decoded frames after {quality['prompt_frames']}-frame prompts "
          f"({quality['prompts']} prompts, temperature {quality['temperature']})")
    print(f"{'system':8s} {'ovrl':>5s} {'sig':>5s} {'bak':>5s} {'p808':>5s} {'ovrl/unigram':>12s} {'prompts won':>11s}")
    for name in ("real", *SHAPES, "unigram"):
        q = quality[name]
        print(f"{name:8s} {q['ovrl']:5.2f} {q['sig']:5.2f} {q['bak']:5.2f} {q['p808']:5.2f} {q['ovrl'] / quality['unigram']['ovrl']:12.2f} "
              f"{q['wins_over_unigram']:11.0%}")
    return {name: {f"every_codebook_margin_ge_{MARGIN}": min(margins[name]) >= MARGIN, "min_margin": min(margins[name]),
                   "reversal_accuracy_summed": pairs[name]["summed"]["value"],
                   "dnsmos_above_unigram": quality[name]["ovrl"] > quality["unigram"]["ovrl"]} for name in SHAPES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-codec-lm", help="where every step writes (rerun to resume)")
    parser.add_argument("--sentences", type=int, default=0, help="Harvard sentences of the corpus (0: all 720)")
    parser.add_argument("--codebook-size", type=int, default=256, help="centroids per residual codebook")
    parser.add_argument("--tokenizer-utterances", type=int, default=200, help="training utterances the residual k-means is fitted on")
    parser.add_argument("--tokenizer-frames", type=int, default=30000, help="mel frames sampled from them")
    parser.add_argument("--steps", type=int, default=300, help="training steps of each LM")
    parser.add_argument("--prompts", type=int, default=8, help="held-out utterances continued (and as many unigram samples)")
    parser.add_argument("--prompt-seconds", type=float, default=1.0, help="prompt: the start of each held-out utterance")
    parser.add_argument("--continuation-seconds", type=float, default=1.5, help="frames generated per prompt")
    parser.add_argument("--temperature", type=float, default=0.8, help="sampling temperature of every codebook")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    args = parser.parse_args()
    work, started = args.out, time.time()
    print(f"machine: {machine()}", flush=True)
    corpus, tokenizer = work / "corpus", work / "tokenizer"
    if not (corpus / "cuts.jsonl.gz").exists():
        spokenlm("data", "synth", str(corpus), "source=harvard", f"max_sentences={args.sentences}",
                 "voices=[" + ",".join(TRAIN_VOICES + HELD_OUT) + "]", f"test_voices={len(HELD_OUT)}", "test_fraction=0.1", "workers=2")
    manifests = split_manifests(corpus)
    if not (tokenizer / "config.json").exists():
        spokenlm("train-tokenizer", "-c", str(REPO / "recipes" / "tokenizer-mel-rvq.yaml"), "-o", str(tokenizer), "data.audio=[]",
                 f"data.manifest={manifests['train']}", f"data.max_items={args.tokenizer_utterances}", f"codebook_size={args.codebook_size}",
                 f"max_frames={args.tokenizer_frames}", f"name=mel-rvq8x{args.codebook_size}")
    tokens = {split: work / f"tokens-{split}" for split in manifests}
    for split, path in tokens.items():
        if not path.exists():
            spokenlm("tokenize", str(manifests[split]), "-t", str(tokenizer), "-o", str(path), "--workers", "2")
    summaries = train_lms(work, tokens, args.steps)
    log_probs = unigram_log_probs(token_frames(tokens["train"]), args.codebook_size)
    stage = time.time()
    pairs = score_benchmark(reversal_benchmark(manifests["test"], work / "reversal"), tokenizer, work, log_probs)
    print(f"pair benchmark: {time.time() - stage:.0f} s", flush=True)
    stage = time.time()
    quality = continuation_quality(work, tokenizer, tokens, log_probs, args)
    print(f"continuations, decoding and DNSMOS: {time.time() - stage:.0f} s", flush=True)
    criteria = report(summaries, pairs, quality)
    print(f"\ncriteria: {json.dumps(criteria)}\nmachine at the end: {machine()}\nwall time {(time.time() - started) / 60:.1f} min")
    (work / "results.json").write_text(json.dumps({"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "lms": summaries,
                                                   "reversal_pairs": pairs, "dnsmos": quality, "criteria": criteria}, indent=2))


if __name__ == "__main__":
    main()
