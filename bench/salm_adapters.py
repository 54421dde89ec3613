"""Modality adapters of the tiny speech-aware text LM compared in one run: accuracy per task and speech tokens per second.

Needs the corpora and the stage-1 text LM of ``recipes/salm-text-tiny.yaml`` (see its header). For each adapter in
``--adapters`` it trains ``recipes/salm-tiny.yaml`` (the same frozen text LM, the same cached encoder features,
the same steps and seed) into ``--out/<adapter>``, then scores it with ``spokenlm.eval.salm.evaluate_run`` on the held-out
voices and stories: ASR WER, and accuracy with 95 % intervals for qa, gender, accent, engine and command, beside the
majority-class and question-only (empty audio) baselines, and the adapter's measured speech tokens per second.
A finished adapter (its ``results.json`` exists) is not trained again.

    python bench/salm_adapters.py [--adapters linear conv window-qformer] [--steps 300] [--out runs/salm-tiny/bench]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ADAPTER_SETTINGS = {  # 50 Hz frames in; each about 12.5 tokens/s out except ctc (follows the speech)
    "linear": ["model.adapter.stack=4"],
    "conv": ["model.adapter.strides=[2,2]"],
    "window-qformer": ["model.adapter.window=8", "model.adapter.queries=2"],
    "qformer": ["model.adapter.queries=16"],
    "ctc": [],
}
TASKS = ("qa", "gender", "accent", "engine", "command")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapters", nargs="+", default=["linear", "conv", "window-qformer"], choices=sorted(ADAPTER_SETTINGS))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "salm-tiny" / "bench")
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "salm-tiny.yaml")
    parser.add_argument("--overrides", nargs="*", default=[], help="extra key=value overrides for every adapter")
    args = parser.parse_args()

    from spokenlm.config import load_config
    from spokenlm.eval.salm import evaluate_run
    from spokenlm.train.tasks.salm import SALMTrainConfig, train_salm

    rows = {}
    for adapter in args.adapters:
        run = args.out / adapter
        results_path = run / "results.json"
        if not results_path.is_file():
            overrides = [f"model.adapter.type={adapter}", *ADAPTER_SETTINGS[adapter], f"optim.max_steps={args.steps}",
                         f"out_dir={run}", "eval_every=0", f"save_every={args.steps}", *args.overrides]
            config = load_config(SALMTrainConfig, args.recipe, overrides)
            start = time.perf_counter()
            summary = train_salm(config)
            train_s = time.perf_counter() - start
            results = evaluate_run(run / "model", config.data.corpora)
            results["train_seconds"], results["trainable_parameters"] = train_s, summary["trainable_parameters"]
            results_path.write_text(json.dumps(results, indent=1) + "\n")
        rows[adapter] = json.loads(results_path.read_text())
    header = f"{'adapter':<16}{'tok/s':>7}{'WER':>7}" + "".join(f"{t:>22}" for t in TASKS)
    print(header)
    for adapter, r in rows.items():
        cells = [f"{r['speech_tokens_per_second']:>7.2f}", f"{r['asr']['model']['wer']:>7.3f}"]
        for task in TASKS:
            m = r.get(task, {}).get("model")
            cells.append(f"{m['value']:>8.3f} [{m['low']:.2f},{m['high']:.2f}]" if m else f"{'-':>22}")
        print(f"{adapter:<16}" + "".join(cells))
    first = next(iter(rows.values()))
    for baseline in ("majority", "question_only"):
        cells = [f"{'':>7}", f"{first['asr'].get(baseline, {}).get('wer', float('nan')):>7.3f}"]
        for task in TASKS:
            m = first.get(task, {}).get(baseline)
            cells.append(f"{m['value']:>8.3f} [{m['low']:.2f},{m['high']:.2f}]" if m else f"{'-':>22}")
        print(f"{baseline + ' (' + next(iter(rows)) + ')':<16}" + "".join(cells))
    (args.out / "bench.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
