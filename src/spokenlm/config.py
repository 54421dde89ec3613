"""Typed dataclass configs: YAML files, ``key=value`` overrides, resolved dumps.

A config is a (possibly nested) dataclass. ``load_config(cls, path, overrides)``
reads YAML, applies overrides such as ``model.dim=256`` or ``lr=3e-4`` (values
parsed as YAML scalars), checks every key against the dataclass fields and
converts values to the declared types. ``save_config`` writes the resolved
config next to a run's outputs.

A mapping given for a nested dataclass field updates that field's default, so a
task whose ``optim`` defaults differ from :class:`OptimConfig`'s keeps them for the
keys a recipe leaves out. A dataclass may list keys it renamed in a ``RENAMED_KEYS`` class variable
(``{"steps": "optim.max_steps"}``, or a function of the old value returning
``{new path: value}``): the old key keeps working, with a :class:`RenamedKeyWarning`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from spokenlm.errors import ConfigError, FileAccessError

T = TypeVar("T")
Renamed = dict[str, str | Callable[[Any], dict[str, Any]]]


class RenamedKeyWarning(FutureWarning):
    """A config key that was renamed: the old name still works."""


def parse_overrides(overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Turn ``["a.b=1", "c=x"]`` into a nested dict ``{"a": {"b": 1}, "c": "x"}``."""
    nested: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override {item!r} has an empty key")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise ConfigError(f"override {item!r}: the value is not valid YAML ({reason}); quote it, e.g. key='[\"a*.flac\"]'") from err
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with another override")
        node[parts[-1]] = value
    return nested


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively by ``update`` (neither is modified)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[parts[-1]] = value


def normalize_keys(cls: type, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``data`` with every renamed key of ``cls`` (and of its nested dataclasses) moved to its new path, warning once per key."""
    data = dict(data)
    renamed: Renamed = getattr(cls, "RENAMED_KEYS", {})
    for old, new in renamed.items():
        if old not in data:
            continue
        value = data.pop(old)
        moves = new(value) if callable(new) else {new: value}
        warnings.warn(f"config key '{prefix}{old}' is renamed: use {', '.join(repr(prefix + k) for k in moves)}", RenamedKeyWarning, stacklevel=2)
        for path, moved in moves.items():
            _set_path(data, path, moved)
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        tp = hints.get(field.name)
        if dataclasses.is_dataclass(tp) and isinstance(data.get(field.name), dict):
            data[field.name] = normalize_keys(tp, data[field.name], f"{prefix}{field.name}.")
    return data


def _convert(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{where}: cannot be None")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return from_dict(tp, value, prefix=where + ".")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            value = [value]
        item_type = args[0] if args else Any
        items = [_convert(v, item_type, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return int(value)
    if tp is float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    if tp is Path:
        return Path(value)
    return value


def _on_default(field: dataclasses.Field, tp: Any, value: Any) -> Any:
    """A mapping given for a dataclass field updates that field's default (its ``default_factory``), not the class defaults."""
    if isinstance(value, dict) and dataclasses.is_dataclass(tp) and field.default_factory is not dataclasses.MISSING:
        return deep_merge(to_dict(field.default_factory()), value)
    return value


def from_dict(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys, converting types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + k for k in unknown)}; "
            f"known: {', '.join(sorted(fields))}"
        )
    kwargs = {name: _convert(_on_default(fields[name], hints[name], value), hints[name], prefix + name) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"{cls.__name__}: {err}") from err


def to_dict(config: Any) -> dict[str, Any]:
    """Dataclass → plain dict of YAML/JSON-safe values (paths become strings)."""

    def clean(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return clean(dataclasses.asdict(config))


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping of a YAML recipe file; a missing file, invalid YAML or another top level is a one-line :class:`ConfigError`."""
    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: config file not found") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from err
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return loaded


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    base: T | None = None,
) -> T:
    """Load ``cls`` from YAML ``path`` (optional) on top of ``base`` or the defaults, then overrides."""
    data: dict[str, Any] = to_dict(base) if base is not None else {}
    if path is not None:
        data = deep_merge(data, normalize_keys(cls, read_yaml(path)))
    data = deep_merge(data, normalize_keys(cls, parse_overrides(list(overrides))))
    return from_dict(cls, data)


def save_config(config: Any, out_dir: str | Path, name: str = "config.yaml") -> Path:
    """Write the resolved ``config`` as YAML into ``out_dir`` and return its path."""
    out_dir = Path(out_dir)
    path = out_dir / name
    tmp = path.with_suffix(path.suffix + ".tmp")
    # the first write of most commands: an output folder that cannot be made or written is named here, in one line
    action = "cannot create the folder"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        action = "cannot write"
        tmp.write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
        tmp.replace(path)
    except OSError as err:
        raise FileAccessError.from_os_error(err, action) from err
    return path
