"""Build ``report.html`` + ``report.json`` for a run folder.

What is collected under ``RUN_DIR`` (any depth):
- ``metrics.jsonl`` of training runs → loss curves per split;
- ``results.json`` of ``spokenlm eval pairs`` → accuracy table (summed and
  normalized, intervals, phone topline) and an accuracy-per-subset plot;
- ``results.json`` of ``spokenlm eval generate`` → per-temperature table,
  perplexity-vs-VERT plot, prosody table, spectrograms and audio players for
  prompts and continuations (audio stays beside the page, linked relatively).
Plots are embedded as PNG data URIs, so the page is one file plus its audio.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from spokenlm.atomic import atomic_write_json, atomic_write_text
from spokenlm.errors import SpokenLMError
from spokenlm.report import plots

REPORT_NAME, REPORT_JSON = "report.html", "report.json"
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child{text-align:left}img{max-width:100%;display:block;margin:8px 0}
.sample{display:flex;gap:16px;align-items:center;margin:6px 0;font-size:13px}.sample audio{height:32px}
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def table(header: list[str], rows: list[list[Any]]) -> str:
    """An HTML table with escaped cells."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _interval(estimate: dict[str, Any]) -> str:
    return f"{estimate['value']:.3f} [{estimate['low']:.3f}, {estimate['high']:.3f}]"


def pair_section(name: str, results: dict[str, Any]) -> str:
    """Accuracy table (+ phone topline) and a per-subset plot of one pair-benchmark result."""
    rows = [["model", results["pairs"], _interval(results["summed"]), _interval(results["normalized"])]]
    if "topline" in results:
        top = results["topline"]
        rows.append([top["model"], top["pairs"], _interval(top["summed"]), _interval(top["normalized"])])
    subset_rows = [[s, v["pairs"], _interval(v["summed"]), _interval(v["normalized"])] for s, v in results["subsets"].items()]
    image = plots.accuracy_plot(name, results["subsets"])
    parts = [
        f"<h2>{html.escape(name)}</h2>",
        f"<p>{results.get('skipped', 0)} pairs skipped (bad audio).</p>",
        table(["scorer", "pairs", "accuracy summed [CI]", "accuracy normalized [CI]"], rows),
        f'<img alt="accuracy per subset" src="{image}">',
        table(["subset", "pairs", "summed [CI]", "normalized [CI]"], subset_rows),
    ]
    return "\n".join(parts)


def generation_section(name: str, results: dict[str, Any], folder: Path, run_dir: Path, max_players: int) -> str:
    """Temperature sweep table and plot, AUC, prosody, spectrograms and audio players of one generation result."""
    from spokenlm.audio.io import load_audio

    keys = ["perplexity", "auto_bleu2", "self_bleu2", "vert"]
    rows = [[r["temperature"], *(r[k] for k in keys)] for r in results["temperatures"]]
    if "oracle" in results:
        rows.append(["oracle (real continuations)", *(results["oracle"][k] for k in keys)])
    parts = [f"<h2>{html.escape(name)}</h2>", table(["temperature", *keys], rows)]
    if "auc" in results:
        parts.append(table(list(results["auc"]), [[str(v) if isinstance(v, list) else v for v in results["auc"].values()]]))
    sweep = results["temperatures"]
    curve = plots.curve_plot(name, {"model": ([r["vert"] for r in sweep], [r["perplexity"] for r in sweep])}, "VERT", "perplexity")
    parts.append(f'<img alt="perplexity vs VERT" src="{curve}">')
    if "prosody" in results:
        parts.append(table(list(results["prosody"]), [list(results["prosody"].values())]))
    shown = results.get("samples", [])[:max_players]
    for index, sample in enumerate(shown):
        prompt = folder / sample["prompt_audio"]
        label = f"{sample['prompt_id']} · T={sample['temperature']:g}"
        transcript = html.escape(sample.get("transcript", ""))
        if sample.get("audio") is None:
            parts.append(f'<div class="sample"><span>{html.escape(label)}</span><span>empty continuation (the LM ended at once)</span></div>')
            continue
        audio = folder / sample["audio"]
        rel_audio, rel_prompt = audio.relative_to(run_dir).as_posix(), prompt.relative_to(run_dir).as_posix()
        parts.append(
            f'<div class="sample"><span>{html.escape(label)}</span>'
            f'<span>prompt <audio controls preload="none" src="{html.escape(rel_prompt)}"></audio></span>'
            f'<span>continuation <audio controls preload="none" src="{html.escape(rel_audio)}"></audio></span>'
            f"<span>“{transcript}”</span></div>"
        )
        if index < 2 and audio.exists():
            wav, sr = load_audio(audio, None)
            image = plots.spectrogram_plot(f"continuation {sample['prompt_id']}", wav, sr)
            parts.append(f'<img alt="spectrogram" src="{image}">')
    return "\n".join(parts)


def training_section(name: str, records: list[dict[str, Any]]) -> str:
    """Loss curves (one per split) of a training run's ``metrics.jsonl`` records."""
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for record in records:
        if "loss" in record and "step" in record:
            xs, ys = curves.setdefault(record.get("split", "train"), ([], []))
            xs.append(record["step"])
            ys.append(record["loss"])
    if not curves:
        return ""
    return f'<h2>{html.escape(name)}</h2><img alt="loss curve" src="{plots.curve_plot(name, curves, "step", "loss (nats/token)")}">'


def collect(run_dir: Path) -> dict[str, Any]:
    """Every training log and results file under ``run_dir``, keyed by its folder relative to ``run_dir``."""
    from spokenlm.train.metrics import MetricsLog

    found: dict[str, Any] = {"training": {}, "pairs": {}, "generation": {}}
    for path in sorted(run_dir.rglob("metrics.jsonl")):
        found["training"][path.parent.relative_to(run_dir).as_posix() or "."] = MetricsLog.read(path)
    for path in sorted(run_dir.rglob("results.json")):
        key = path.parent.relative_to(run_dir).as_posix() or "."
        try:
            results = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise SpokenLMError(f"{path}: not valid JSON ({err.msg})") from err
        if "summed" in results:
            found["pairs"][key] = results
        elif "temperatures" in results:
            found["generation"][key] = results
    return found


def build_report(run_dir: str | Path, max_players: int = 12) -> Path:
    """Write ``report.html`` and ``report.json`` into ``run_dir``; returns the HTML path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise SpokenLMError(f"{run_dir}: run folder not found")
    found = collect(run_dir)
    if not any(found.values()):
        raise SpokenLMError(f"{run_dir}: nothing to report (no metrics.jsonl or results.json under it)")
    sections = [training_section(f"training: {k}", v) for k, v in found["training"].items()]
    sections += [pair_section(f"pairs: {k}", v) for k, v in found["pairs"].items()]
    sections += [generation_section(f"generation: {k}", v, run_dir / k, run_dir, max_players) for k, v in found["generation"].items()]
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>spokenlm report: {html.escape(run_dir.name)}</title>"
        f"<style>{STYLE}</style></head><body><h1>spokenlm report: {html.escape(run_dir.name)}</h1>"
        + "\n".join(s for s in sections if s)
        + "</body></html>\n"
    )
    atomic_write_json(run_dir / REPORT_JSON, found)
    atomic_write_text(run_dir / REPORT_NAME, page)
    return run_dir / REPORT_NAME
