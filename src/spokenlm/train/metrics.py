"""Training metrics: JSONL (every record) + CSV (the columns a task declares), optional TensorBoard and W&B."""

from __future__ import annotations

from collections.abc import Sequence

import csv
import json
from pathlib import Path
from typing import Any

from spokenlm.errors import MissingDependencyError

LEADING_COLUMNS = ("step", "split", "loss")


class MetricsLog:
    """Append metrics records to ``out_dir/metrics.{jsonl,csv}``.

    The CSV has ``step, split, loss`` and then ``columns``. Resuming at ``resume_step`` first drops
    records of later steps (written by the interrupted run after its last checkpoint), so the files
    read as one clean run.
    """

    def __init__(self, out_dir: str | Path, resume_step: int = 0, tensorboard: bool = False, wandb: bool = False,
                 run_config: dict | None = None, columns: Sequence[str] = ()) -> None:
        out_dir = Path(out_dir)
        self.columns = (*LEADING_COLUMNS, *(c for c in columns if c not in LEADING_COLUMNS))
        self.jsonl, self.csv = out_dir / "metrics.jsonl", out_dir / "metrics.csv"
        records = self.read(self.jsonl) if resume_step else []
        records = [r for r in records if r["step"] <= resume_step]
        self.jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))
        with open(self.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(records)
        self._tb = self._wandb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:
                raise MissingDependencyError("tensorboard", purpose="tensorboard=true") from err
            self._tb = SummaryWriter(str(out_dir / "tensorboard"))
        if wandb:
            try:
                import wandb as wandb_module
            except ImportError as err:
                raise MissingDependencyError("wandb", purpose="wandb=true") from err
            self._wandb = wandb_module.init(dir=str(out_dir), config=run_config or {}, resume="allow")

    @staticmethod
    def read(path: str | Path) -> list[dict[str, Any]]:
        """Records of a ``metrics.jsonl`` (missing file: none)."""
        path = Path(path)
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []

    def log(self, record: dict[str, Any]) -> None:
        with open(self.jsonl, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        with open(self.csv, "a", newline="") as handle:
            csv.DictWriter(handle, self.columns, extrasaction="ignore").writerow(record)
        numbers = {f"{record['split']}/{k}": v for k, v in record.items() if isinstance(v, (int, float)) and k != "step"}
        if self._tb is not None:
            for key, value in numbers.items():
                self._tb.add_scalar(key, value, record["step"])
        if self._wandb is not None:
            self._wandb.log(numbers, step=record["step"])

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()
