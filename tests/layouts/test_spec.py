"""StreamSpec validation and JSON round trips; the specs tokenizers declare."""

from __future__ import annotations

import json

import pytest

from spokenlm.errors import ConfigError
from spokenlm.layouts import StreamSpec, codebook_streams


def test_spec_round_trips_through_json() -> None:
    spec = StreamSpec("acoustic", 1024, 12.5, channel="user", codebook=3, delay=2)
    assert StreamSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert spec.to_dict() == {"role": "acoustic", "vocab_size": 1024, "frame_rate": 12.5, "channel": "user", "codebook": 3, "delay": 2}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "music"}, "role 'music' is not one of"),
    ({"channel": "C"}, "channel 'C' is not one of"),
    ({"vocab_size": -1}, "vocab_size must be an integer >= 0"),
    ({"delay": 1.5}, "delay must be an integer >= 0"),
    ({"frame_rate": float("nan")}, "frame_rate must be a finite number"),
])
def test_bad_specs_raise_one_line_config_errors(kwargs: dict, message: str) -> None:
    fields = {"role": "semantic", "vocab_size": 10, "frame_rate": 50.0, **kwargs}
    with pytest.raises(ConfigError, match=message):
        StreamSpec(**fields)
    with pytest.raises(ConfigError):
        StreamSpec.from_dict(fields)


def test_from_dict_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="unknown config key"):
        StreamSpec.from_dict({"role": "text", "vocab_size": 10, "frame_rate": 50.0, "level": 1})


def test_codebook_streams() -> None:
    assert codebook_streams(1, 100, 50.0, semantic=1) == (StreamSpec("semantic", 100, 50.0),)
    mixed = codebook_streams(3, 64, 12.5, semantic=1)
    assert [(s.role, s.codebook) for s in mixed] == [("semantic", 0), ("acoustic", 1), ("acoustic", 2)]
    assert {s.role for s in codebook_streams(4, 64, 75.0)} == {"acoustic"}
    with pytest.raises(ConfigError, match="semantic <= num_streams"):
        codebook_streams(2, 64, 75.0, semantic=3)
