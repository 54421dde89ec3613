"""Typed YAML configs with key=value overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import pytest
import yaml

from spokenlm.config import RenamedKeyWarning, load_config, parse_overrides, save_config
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


@dataclass
class Schedule:
    max_steps: int = 100
    b1: float = 0.9
    b2: float = 0.99


@dataclass
class Renamed:
    RENAMED_KEYS: ClassVar[dict] = {"steps": "optim.max_steps", "betas": lambda v: {"optim.b1": v[0], "optim.b2": v[1]}}

    optim: Schedule = field(default_factory=lambda: Schedule(max_steps=7, b1=0.5))
    name: str = "x"


@dataclass
class Outer:
    inner: Renamed = field(default_factory=Renamed)


def test_renamed_keys_still_work_with_a_warning_at_any_depth(tmp_path: Path) -> None:
    recipe = tmp_path / "old.yaml"
    recipe.write_text("inner:\n  steps: 30\n  betas: [0.1, 0.2]\n")
    with pytest.warns(RenamedKeyWarning, match=r"'inner.steps' is renamed: use 'inner.optim.max_steps'"):
        config = load_config(Outer, recipe)
    assert config.inner.optim == Schedule(max_steps=30, b1=0.1, b2=0.2)
    # a new key given as an override beats the old key of the recipe, and an old override beats the new key of the recipe
    with pytest.warns(RenamedKeyWarning):
        assert load_config(Outer, recipe, ["inner.optim.max_steps=5"]).inner.optim.max_steps == 5
    (tmp_path / "new.yaml").write_text("inner:\n  optim:\n    max_steps: 30\n")
    with pytest.warns(RenamedKeyWarning):
        assert load_config(Outer, tmp_path / "new.yaml", ["inner.steps=4"]).inner.optim.max_steps == 4


def test_a_partial_mapping_updates_the_field_default_not_the_class_default() -> None:
    config = load_config(Renamed, None, ["optim.b2=0.5"])
    assert config.optim == Schedule(max_steps=7, b1=0.5, b2=0.5)  # max_steps and b1 from Renamed's default_factory


def test_an_override_that_is_not_yaml_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"data.audio=.*: the value is not valid YAML .*quote it"):
        parse_overrides(["data.audio=[a[1-2].flac]"])
