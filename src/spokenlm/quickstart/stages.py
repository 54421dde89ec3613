"""A runner for ordered, cached stages: a rerun continues after the last finished stage.

Each stage is a function ``run(run_dir) -> dict`` returning JSON-safe results.
``state.json`` in the run folder records every finished stage with its results,
wall time and intra-op thread count, written atomically after the stage returns, so a run killed in
the middle of a stage reruns only that stage. ``start_from`` forgets a stage
and every later one, and deletes their output folders so they are recomputed
rather than resumed. Progress: a rich status line per stage with an estimate of
the remaining time from each stage's expected share of the total. Before each stage the
thread count is set again from the cores free at that moment
(:func:`spokenlm.perf.configure_cpu_threads`), so load during one stage never slows the next.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spokenlm.atomic import atomic_write_json
from spokenlm.errors import SpokenLMError
from spokenlm.perf import configure_cpu_threads
from spokenlm.report.summary import stage_rows


@dataclass
class Stage:
    """One pipeline step.

    Attributes:
        name: identifier used by ``--from``.
        run: ``run(run_dir) -> dict`` of JSON-safe results.
        weight: expected share of the total wall time (any unit), for the ETA.
        description: one line shown while it runs.
        outputs: folders (relative to the run folder) the stage writes; ``--from`` deletes them.
    """

    name: str
    run: Callable[[Path], dict[str, Any]]
    weight: float = 1.0
    description: str = ""
    outputs: tuple[str, ...] = ()


class StageRunner:
    """Run ``stages`` in order inside ``run_dir``, skipping those already finished.

    ``threads()`` sets the intra-op thread count before each stage and returns it (tests pass a fake).
    """

    def __init__(self, run_dir: str | Path, stages: list[Stage], console: Console | None = None,
                 threads: Callable[[], int] = configure_cpu_threads) -> None:
        self.run_dir = Path(run_dir)
        self.stages = stages
        self.console = console or Console()
        self.threads = threads
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise SpokenLMError(f"duplicate stage names in {names}")
        self.state_path = self.run_dir / "state.json"

    def load_state(self) -> dict[str, dict[str, Any]]:
        """Finished stages: ``{name: {"results": ..., "seconds": ...}}``."""
        if not self.state_path.exists():
            return {}
        try:
            return json.loads(self.state_path.read_text())
        except json.JSONDecodeError as err:
            raise SpokenLMError(f"{self.state_path}: corrupt state file ({err}); delete it to start over") from err

    def forget_from(self, name: str) -> None:
        """Mark stage ``name`` and every later stage as not finished and delete their outputs."""
        names = [s.name for s in self.stages]
        if name not in names:
            raise SpokenLMError(f"unknown stage {name!r}; stages: {', '.join(names)}")
        state = self.load_state()
        for stage in self.stages[names.index(name) :]:
            state.pop(stage.name, None)
            for output in stage.outputs:
                shutil.rmtree(self.run_dir / output, ignore_errors=True)
        atomic_write_json(self.state_path, state)

    def run(self, start_from: str | None = None) -> dict[str, dict[str, Any]]:
        """Run every unfinished stage; return the state of all stages."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if start_from is not None:
            self.forget_from(start_from)
        state = self.load_state()
        total_weight = sum(s.weight for s in self.stages)
        elapsed, weight_run = 0.0, 0.0
        done_weight = sum(s.weight for s in self.stages if s.name in state)
        for index, stage in enumerate(self.stages, 1):
            label = f"[{index}/{len(self.stages)}] {stage.name}"
            if stage.name in state:
                self.console.print(f"{label}: cached ({state[stage.name]['seconds']:.0f} s when it ran)")
                continue
            eta = ""
            if weight_run > 0:
                eta = f" — about {elapsed / weight_run * (total_weight - done_weight) / 60:.1f} min left"
            threads = self.threads()
            start = time.perf_counter()
            with self.console.status(f"{label}: {stage.description} ({threads} threads){eta}"):
                results = stage.run(self.run_dir)
            seconds = time.perf_counter() - start
            elapsed += seconds
            weight_run += stage.weight
            done_weight += stage.weight
            state[stage.name] = {"results": results, "seconds": seconds, "threads": threads}
            atomic_write_json(self.state_path, state)
            self.console.print(f"{label}: done in {seconds:.1f} s on {threads} threads")
        return state

    def summary_table(self, state: dict[str, dict[str, Any]]) -> Table:
        """A rich table: stage, wall time, threads, headline results (the rows the report opens with)."""
        table = Table(title=f"spokenlm run {self.run_dir}")
        table.add_column("stage")
        table.add_column("seconds", justify="right")
        table.add_column("threads", justify="right")
        table.add_column("results", overflow="fold")
        for row in stage_rows(state, [s.name for s in self.stages]):
            table.add_row(*row)
        return table
