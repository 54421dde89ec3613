"""Typed YAML configs with key=value overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
import yaml

from spokenlm.config import load_config, parse_overrides, save_config
from spokenlm.errors import ConfigError


@dataclass
class Optim:
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.95)


@dataclass
class Run:
    name: str = "run"
    steps: int = 10
    device: Literal["cpu", "cuda"] = "cpu"
    out: Path = Path("runs/x")
    init: str | None = None
    optim: Optim = field(default_factory=Optim)
    layers: list[int] = field(default_factory=lambda: [1, 2])


def test_yaml_then_overrides(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: tiny\nsteps: 100\noptim:\n  lr: 0.01\n")
    config = load_config(Run, recipe, ["optim.lr=3e-4", "steps=5", "layers=[4, 5, 6]", "init=null"])
    assert config == Run(name="tiny", steps=5, optim=Optim(lr=3e-4), layers=[4, 5, 6])
    assert isinstance(config.optim.lr, float) and isinstance(config.out, Path)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match="optim.lrr"):
        load_config(Run, None, ["optim.lrr=1"])


def test_wrong_type_is_named() -> None:
    with pytest.raises(ConfigError, match="steps: expected an integer"):
        load_config(Run, None, ["steps=ten"])
    with pytest.raises(ConfigError, match="device"):
        load_config(Run, None, ["device=tpu"])


def test_bad_override_syntax_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["steps"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(Run, tmp_path / "none.yaml")


def test_resolved_config_round_trips(tmp_path: Path) -> None:
    config = load_config(Run, None, ["name=abc", "optim.betas=[0.8, 0.9]"])
    path = save_config(config, tmp_path / "out")
    assert yaml.safe_load(path.read_text())["optim"]["betas"] == [0.8, 0.9]
    assert load_config(Run, path) == config
