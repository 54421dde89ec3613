"""The loop on hand-made tasks whose every number is known: accumulation, phases, scratch reuse, metrics, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from spokenlm.errors import SpokenLMError
from spokenlm.train.config import LoopConfig, OptimConfig
from spokenlm.train.loop import Loop
from spokenlm.train.task import LoopContext, Phase, Task

X = torch.linspace(-1, 1, 8)[:, None]
Y = 3 * X + 1


class Regression(Task):
    """Least squares of a line on 8 fixed points; one item is a point."""

    item_name = "points"
    metric_names = ("error",)

    def __init__(self, config: LoopConfig, critic_from: int | None = None) -> None:
        super().__init__()
        self.config, self.critic_from, self.forwards = config, critic_from, 0

    def build(self, ctx: LoopContext) -> None:
        self.modules = {"model": nn.Linear(1, 1)}
        if self.critic_from is not None:
            self.modules["critic"] = nn.Linear(1, 1)

    def phases(self) -> list[Phase]:
        main = Phase("model", self.config.optim)
        return [Phase("critic", self.config.optim, self.critic_from), main] if self.critic_from is not None else [main]

    def batch(self, step: int, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return X[positions], Y[positions]

    def loss(self, phase: str, batch: Any, scratch: dict[str, Any]) -> tuple[torch.Tensor, dict]:
        x, y = batch
        if "prediction" not in scratch:
            self.forwards += 1
            scratch["prediction"] = self.train_modules["model"](x)
        if phase == "critic":
            return (self.train_modules["critic"](scratch["prediction"].detach()) ** 2).mean(), {}
        error = ((scratch["prediction"] - y) ** 2).mean()
        return error, {"error": error.detach() * 2}

    def finish(self, states: dict, val_loss: float | None, steps: int) -> dict:
        self.artifact = states["model"]
        return {"weight": float(states["model"]["weight"])}


def config(**kw: Any) -> LoopConfig:
    optim = OptimConfig(lr=0.1, schedule="constant", warmup_steps=0, max_steps=kw.pop("steps", 4), batch_size=8, grad_accum=kw.pop("accum", 1),
                        weight_decay=0.0, grad_clip=0.0, beta1=0.9, beta2=0.99)
    return LoopConfig(optim=optim, device="cpu", precision="fp32", log_every=1, save_every=kw.pop("save_every", 0), **kw)


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_one_step_is_adamw_on_the_mean_loss_and_accumulation_does_not_change_it(tmp_path: Path) -> None:
    torch.manual_seed(0)
    reference = nn.Linear(1, 1)
    optimizer = torch.optim.AdamW(reference.parameters(), lr=0.1, betas=(0.9, 0.99), weight_decay=0.0)
    ((reference(X) - Y) ** 2).mean().backward()
    optimizer.step()
    one = Regression(config(steps=1))
    summary = Loop(one, tmp_path / "one").fit()
    assert summary["weight"] == pytest.approx(float(reference.weight.detach())) and summary["points_seen"] == 8
    two = Regression(config(steps=5, accum=2))
    Loop(two, tmp_path / "two").fit()
    five = Regression(config(steps=5))
    Loop(five, tmp_path / "five").fit()
    assert [r["loss"] for r in rows(tmp_path / "two")] == pytest.approx([r["loss"] for r in rows(tmp_path / "five")], rel=1e-6)
    assert rows(tmp_path / "five")[0]["error"] == pytest.approx(2 * rows(tmp_path / "five")[0]["loss"])
    assert (tmp_path / "five" / "metrics.csv").read_text().splitlines()[0].startswith("step,split,loss,error,lr,grad_norm,points_per_s")


def test_a_phase_starts_at_its_step_and_reuses_the_scratch_of_the_step(tmp_path: Path) -> None:
    task = Regression(config(steps=4), critic_from=2)
    Loop(task, tmp_path / "gan").fit()
    logged = rows(tmp_path / "gan")
    assert ["critic" in r for r in logged] == [False, False, True, True]
    assert task.forwards == 4  # one forward per step: the critic phase's prediction is reused by the model phase
    task = Regression(config(steps=4, accum=2), critic_from=2)
    Loop(task, tmp_path / "gan-accum").fit()
    assert task.forwards == 2 * 2 + 2 * 2 * 2  # with accumulation every phase computes its micro-batches afresh


def test_a_finished_run_only_exports_and_a_longer_one_continues(tmp_path: Path) -> None:
    Loop(Regression(config(steps=3, save_every=1)), tmp_path / "run").fit()
    again = Regression(config(steps=3, save_every=1))
    Loop(again, tmp_path / "run").fit()
    assert again.forwards == 0 and again.artifact is not None and len(rows(tmp_path / "run")) == 3
    longer = Regression(config(steps=5, save_every=1))
    Loop(longer, tmp_path / "run").fit()
    assert longer.forwards == 2 and [r["step"] for r in rows(tmp_path / "run")] == [1, 2, 3, 4, 5]


def test_a_run_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(SpokenLMError, match=r"file/run: cannot create the run folder"):
        Loop(Regression(config()), tmp_path / "file" / "run")
