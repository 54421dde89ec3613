"""The headline summary of a staged run: one row per stage, shared by the terminal table and the HTML report.

A staged run (``spokenlm quickstart``) keeps ``state.json``: ``{stage: {"results": {...}, "seconds": s,
"threads": n}}`` in stage order, and ``machine.json``: the CPU and its GEMM calibration
(:func:`spokenlm.perf.describe_machine`), so that times from different machines compare.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spokenlm.errors import SpokenLMError

STATE_NAME, MACHINE_NAME = "state.json", "machine.json"


def format_value(value: Any) -> str:
    """A headline number as the summary shows it: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def stage_rows(state: dict[str, dict[str, Any]], names: list[str]) -> list[list[str]]:
    """``[stage, seconds, threads, "key=value, …"]`` per stage of ``names``; stages not in ``state`` say ``not run``."""
    rows = []
    for name in names:
        entry = state.get(name)
        if entry is None:
            rows.append([name, "-", "-", "not run"])
            continue
        headline = ", ".join(f"{k}={format_value(v)}" for k, v in entry["results"].items() if not isinstance(v, (dict, list)))
        rows.append([name, f"{entry['seconds']:.1f}", str(entry.get("threads", "-")), headline])
    return rows


def machine_line(machine: dict[str, Any]) -> str:
    """One line naming the CPU, its bf16 support and the GEMM calibration, e.g.
    ``AMD EPYC (family 25, model 1), 2 cores, AVX-512 BF16 no, AMX no; fp32 GEMM 61.2 GFLOP/s on 2 threads``."""
    flags = f"AVX-512 BF16 {'yes' if machine['avx512_bf16'] else 'no'}, AMX {'yes' if machine['amx'] else 'no'}"
    threads = machine["gemm_threads"]
    return (f"{machine['cpu_model']}, {machine['cores']} cores, {flags}; "
            f"fp32 GEMM {machine['gemm_gflops']:.1f} GFLOP/s on {threads} thread{'' if threads == 1 else 's'}")


def read_json(path: Path) -> Any:
    """``path`` parsed, or ``None`` when it does not exist; bad JSON is a one-line error naming the file."""
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpokenLMError(f"{path}: not valid JSON ({err.msg})") from err
