"""Build ``report.html`` + ``report.json`` for a run folder.

The page opens with what a user wants first: the headline summary (the terminal's table of a staged run,
from ``state.json``, under the machine it ran on, from ``machine.json``) and, beside it, audio players:
prompt → continuation pairs and original → resynthesis pairs.

What is collected under ``RUN_DIR`` (any depth):
- ``metrics.jsonl`` of training runs → loss curves per split;
- ``results.json`` of ``spokenlm eval pairs`` → accuracy table (summed and
  normalized, intervals, phone topline) and an accuracy-per-subset plot;
- ``results.json`` of ``spokenlm eval generate`` → per-temperature table,
  perplexity-vs-VERT plot, prosody table, spectrograms and audio players for
  prompts and continuations (audio stays beside the page, linked relatively);
- ``resynth.csv`` of ``spokenlm eval resynth`` → original → resynthesis players.
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
from spokenlm.report.summary import MACHINE_NAME, STATE_NAME, machine_line, read_json, stage_rows

REPORT_NAME, REPORT_JSON = "report.html", "report.json"
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child{text-align:left}img{max-width:100%;display:block;margin:8px 0}
.sample{display:flex;gap:16px;align-items:center;margin:6px 0;font-size:13px}.sample audio{height:32px}
.headline{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}.headline td:last-child{text-align:left;max-width:520px}
.listen{flex:1;min-width:360px}.listen h3{font-size:15px;margin:4px 0}.machine{font-size:13px;color:#555}
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


def _player(label: str, path: Path, run_dir: Path) -> str:
    return f'<span>{html.escape(label)} <audio controls preload="none" src="{html.escape(path.relative_to(run_dir).as_posix())}"></audio></span>'


def _pair(caption: str, first: tuple[str, Path], second: tuple[str, Path], run_dir: Path, text: str = "") -> str:
    quoted = f"<span>“{html.escape(text)}”</span>" if text else ""
    return (f'<div class="sample"><span>{html.escape(caption)}</span>{_player(*first, run_dir)}{_player(*second, run_dir)}'
            f"{quoted}</div>")


def continuation_pairs(found: dict[str, Any], run_dir: Path, limit: int) -> list[str]:
    """Prompt → continuation players of the first generation result, one per prompt at its phone temperature
    (the first of the sweep without one); only pairs whose two files exist."""
    pairs = []
    for key, results in found["generation"].items():
        rows = results["temperatures"]
        temperature = results.get("meant_vs_said", {}).get("temperature", rows[0]["temperature"] if rows else None)
        for sample in results.get("samples", []):
            if sample["temperature"] != temperature or sample.get("audio") is None or len(pairs) >= limit:
                continue
            prompt, continuation = run_dir / key / sample["prompt_audio"], run_dir / key / sample["audio"]
            if prompt.is_file() and continuation.is_file():
                pairs.append(_pair(f"{sample['prompt_id']} · T={temperature:g}", ("prompt", prompt), ("continuation", continuation),
                                   run_dir, sample.get("transcript", "")))
        if pairs:
            break
    return pairs


def resynthesis_pairs(run_dir: Path, limit: int) -> list[str]:
    """Original → resynthesis players from every ``resynth.csv`` under ``run_dir`` (with what the ASR heard in the resynthesis)."""
    import csv

    from spokenlm.eval.resynth import AUDIO_DIR, ORIGINAL_DIR, ROWS_CSV

    pairs = []
    for rows_path in sorted(run_dir.rglob(ROWS_CSV)):
        with rows_path.open() as handle:
            for row in csv.DictReader(handle):
                original = rows_path.parent / ORIGINAL_DIR / f"{row['id']}.wav"
                resynthesis = rows_path.parent / AUDIO_DIR / f"{row['id']}.wav"
                if len(pairs) < limit and original.is_file() and resynthesis.is_file():
                    pairs.append(_pair(row["id"], ("original", original), ("resynthesis", resynthesis), run_dir, row.get("asr_resynth", "")))
    return pairs


def headline_section(run_dir: Path, found: dict[str, Any], limit: int = 4) -> str:
    """The page's first block: the machine, the stage summary table and, beside them, the listening pairs."""
    state, machine = read_json(run_dir / STATE_NAME), read_json(run_dir / MACHINE_NAME)
    summary = []
    if machine:
        summary.append(f'<p class="machine">machine: {html.escape(machine_line(machine))}</p>')
    if state:
        summary.append(table(["stage", "seconds", "threads", "results"], stage_rows(state, list(state))))
    continuations, resyntheses = continuation_pairs(found, run_dir, limit), resynthesis_pairs(run_dir, limit)
    listen = []
    if continuations:
        listen += ["<h3>prompt → continuation</h3>", *continuations]
    if resyntheses:
        listen += ["<h3>original → resynthesis</h3>", *resyntheses]
    if not summary and not listen:
        return ""
    return f'<div class="headline"><div>{"".join(summary)}</div><div class="listen">{"".join(listen)}</div></div>'


def generation_section(name: str, results: dict[str, Any], folder: Path, run_dir: Path, max_players: int) -> str:
    """Temperature sweep table and plot, AUC, prosody, spectrograms and audio players of one generation result."""
    from spokenlm.audio.io import load_audio

    keys = ["perplexity", "auto_bleu2", "self_bleu2", "vert"]
    phones = ["phone_error_rate", "phone_continuations"] if "meant_vs_said" in results else []
    rows = [[r["temperature"], *(r[k] for k in keys + phones)] for r in results["temperatures"]]
    if "oracle" in results:
        rows.append(["oracle (real continuations)", *(results["oracle"][k] for k in keys), *("-" for _ in phones)])
    parts = [f"<h2>{html.escape(name)}</h2>", table(["temperature", *keys, *phones], rows)]
    if phones:
        said = results["meant_vs_said"]
        parts.append(f"<p>Does the speech say what the LM meant? At T={said['temperature']:g}, the phone error rate of the "
                     f"transcripts' CMUdict phones against the LM's own units is <b>{said['per']:.3f}</b> over "
                     f"{said['continuations']} continuations of at least {said['min_seconds']:g} s (auto-BLEU2 {said['auto_bleu2']:.3f}).</p>")
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
    sections = [headline_section(run_dir, found)]
    sections += [training_section(f"training: {k}", v) for k, v in found["training"].items()]
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
