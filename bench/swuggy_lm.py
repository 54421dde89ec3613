"""sWUGGY end to end: a tiny unit LM trained on a synthesized corpus vs an untrained model of the same shape.

Steps (each skipped when its output exists, so the script resumes):
1. ``spokenlm data synth``: a story corpus spoken by TRAIN_VOICES (espeak-ng; the last one speaks the test split);
2. ``spokenlm train-tokenizer``: the phone tokenizer (recipes/tokenizer-phone.yaml) on it;
3. ``spokenlm tokenize`` the corpus, 4. ``spokenlm train`` a tiny unit LM on the tokens;
5. ``spokenlm benchmarks build swuggy`` from the corpus words, spoken by HELD_OUT voices only;
6. score the benchmark with the trained LM and with an untrained LM of the same shape (same run,
   same pairs), and print both accuracies with their Wilson intervals, the phone n-gram topline and
   the trained − untrained difference.

    python bench/swuggy_lm.py [WORK_DIR]      (default runs/bench-swuggy-lm)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

# espeak-ng speakers are variants (m1, f1 …) in any accent: the held-out speakers share none with training.
TRAIN_VOICES = [f"espeak-ng:{v}" for v in ("en-us+m1", "en-us+f1", "en-gb+m2", "en-gb+f2", "en-us+m4", "en-gb-x-rp+f4", "en-us+m5")]
HELD_OUT = [f"espeak-ng:{v}" for v in ("en-us+m3", "en-gb+f3", "en-029+m6")]


def spokenlm(*args: str) -> None:
    """Run one ``spokenlm`` command, echoing it; stops the script when it fails."""
    print("$ spokenlm", " ".join(args), flush=True)
    started = time.time()
    subprocess.run([sys.executable, "-m", "spokenlm", *args], check=True)
    print(f"  ({time.time() - started:.0f} s)", flush=True)


def main(work: Path) -> None:
    import torch

    from spokenlm.eval.pairs import PairEvalConfig, UnitLMScorer, evaluate_pairs
    from spokenlm.models.unit_lm import UnitLM
    from spokenlm.tokenizers.base import load_tokenizer

    corpus, tokenizer, tokens, lm, bench = (work / n for n in ("corpus", "tokenizer", "tokens", "lm", "swuggy"))
    voices = "[" + ",".join(TRAIN_VOICES) + "]"
    if not (corpus / "cuts.jsonl.gz").exists():
        spokenlm("data", "synth", str(corpus), "source=stories", "num_stories=160", f"voices={voices}", "test_voices=1", "workers=2")
    if not (tokenizer / "config.json").exists():
        spokenlm("train-tokenizer", "-c", "recipes/tokenizer-phone.yaml", "--out", str(tokenizer), f"data.manifest={corpus / 'cuts.jsonl.gz'}", "optim.max_steps=600")
    vocab = load_tokenizer(tokenizer).vocab_size
    if not tokens.exists():
        spokenlm("tokenize", str(corpus / "cuts.jsonl.gz"), "--tokenizer", str(tokenizer), "--out", str(tokens), "--workers", "2")
    if not (lm / "model" / "config.json").exists():
        spokenlm("train", f"out_dir={lm}", f"data.train={tokens}", f"model.n_units={vocab}", "model.dim=128", "model.n_layers=3",
                 "model.n_heads=4", "data.seq_len=128", "optim.batch_size=16", "optim.max_steps=400", "optim.lr=2e-3",
                 "optim.warmup_steps=50", "eval_every=200", "save_every=50", "device=cpu")
    spokenlm("benchmarks", "build", "swuggy", str(bench), f"words_from={corpus / 'cuts.jsonl.gz'}", "num_words=200",
             "synthesis.voices=[" + ",".join(HELD_OUT) + "]", "synthesis.voices_per_item=2", f"synthesis.training_voices={voices}")

    trained = UnitLM.from_pretrained(lm / "model")
    torch.manual_seed(0)
    untrained = UnitLM(trained.config)  # same shape, fresh initialisation
    config = PairEvalConfig(benchmark=str(bench), tokenizer=str(tokenizer), model=str(lm / "model"))
    speech_tokenizer = load_tokenizer(tokenizer)
    results = {}
    for name, model in (("trained", trained), ("untrained", untrained)):
        results[name] = evaluate_pairs(config, UnitLMScorer(model), speech_tokenizer, work / f"eval-{name}")
    print(f"\nsWUGGY, {results['trained']['pairs']} pairs, held-out voices {', '.join(HELD_OUT)}")
    for name, res in results.items():
        for variant in ("summed", "normalized"):
            e = res[variant]
            print(f"  {name:9s} {variant:10s} accuracy {e['value']:.3f}  95% CI [{e['low']:.3f}, {e['high']:.3f}]")
    top = results["trained"]["topline"]["summed"]
    print(f"  phone 3-gram topline (corpus transcripts): {top['value']:.3f} [{top['low']:.3f}, {top['high']:.3f}]")
    diff = results["trained"]["summed"]["value"] - results["untrained"]["summed"]["value"]
    print(f"  trained - untrained (summed): {diff:+.3f}")
    (work / "swuggy_lm.json").write_text(json.dumps({k: {v: r[v] for v in ("pairs", "summed", "normalized", "subsets")} for k, r in results.items()}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("work_dir", nargs="?", type=Path, default=Path("runs/bench-swuggy-lm"), help="where every step writes (rerun to resume)")
    main(parser.parse_args().work_dir)
