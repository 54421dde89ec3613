"""Cached, resumable pipeline stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from spokenlm.errors import SpokenLMError
from spokenlm.quickstart.stages import Stage, StageRunner


def _stages(calls: list[str], fail_at: str | None = None) -> list[Stage]:
    def make(name: str):
        def run(run_dir: Path) -> dict:
            calls.append(name)
            if name == fail_at:
                raise RuntimeError("killed")
            (run_dir / f"{name}.txt").write_text(name)
            return {"value": len(calls)}

        return run

    return [Stage(n, make(n)) for n in ("corpus", "tokens", "lm")]


def test_rerun_continues_after_last_finished_stage(tmp_path: Path) -> None:
    calls: list[str] = []
    with pytest.raises(RuntimeError):
        StageRunner(tmp_path, _stages(calls, fail_at="tokens")).run()
    assert calls == ["corpus", "tokens"]
    calls.clear()
    state = StageRunner(tmp_path, _stages(calls)).run()
    assert calls == ["tokens", "lm"]
    assert set(state) == {"corpus", "tokens", "lm"}


def test_start_from_reruns_that_stage_and_later(tmp_path: Path) -> None:
    calls: list[str] = []
    StageRunner(tmp_path, _stages(calls)).run()
    calls.clear()
    runner = StageRunner(tmp_path, _stages(calls))
    state = runner.run(start_from="tokens")
    assert calls == ["tokens", "lm"]
    assert "lm" in runner.summary_table(state).columns[0]._cells
    with pytest.raises(SpokenLMError, match="unknown stage"):
        runner.run(start_from="vocoder")


def test_start_from_deletes_outputs_of_rerun_stages(tmp_path: Path) -> None:
    calls: list[str] = []
    stages = _stages(calls)
    stages = [Stage(s.name, s.run, outputs=(f"{s.name}_out",)) for s in stages]
    for stage in stages:
        (tmp_path / f"{stage.name}_out").mkdir(parents=True)
        (tmp_path / f"{stage.name}_out" / "ckpt").write_text("old")
    StageRunner(tmp_path, stages).run()
    StageRunner(tmp_path, stages).run(start_from="tokens")
    assert (tmp_path / "corpus_out" / "ckpt").exists()
    assert not (tmp_path / "tokens_out").exists() and not (tmp_path / "lm_out").exists()


def test_threads_are_set_again_before_every_stage_and_recorded(tmp_path: Path) -> None:
    calls: list[str] = []
    free = iter([1, 2, 2])  # a moment of load before the first stage only
    runner = StageRunner(tmp_path, _stages(calls), threads=lambda: next(free))
    state = runner.run()
    assert [state[name]["threads"] for name in ("corpus", "tokens", "lm")] == [1, 2, 2]
    assert runner.summary_table(state).columns[2]._cells == ["1", "2", "2"]
