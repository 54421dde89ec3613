"""StreamLayout: what packing, the loss and sampling read off it; config and JSON round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spokenlm.config import from_dict, to_dict
from spokenlm.errors import ConfigError
from spokenlm.layouts import StreamLayout, StreamSpec, codebook_streams


def test_layout_properties_and_delays() -> None:
    layout = StreamLayout((StreamSpec("text", 32, 12.5), *codebook_streams(3, 64, 12.5, semantic=1))).with_delays([0, 0, 1, 1])
    assert layout.num_streams == 4 and layout.vocab_sizes == (32, 64, 64, 64)
    assert layout.delays == (0, 0, 1, 1) and layout.max_delay == 1 and layout.frame_rate == 12.5
    assert layout.select(role="acoustic") == (2, 3) and layout.select(role="text", channel="model") == (0,)
    ids = np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(layout.delay(ids, pad=-1), [[0, 1, -1], [2, 3, -1], [-1, 4, 5], [-1, 6, 7]])
    np.testing.assert_array_equal(layout.undelay(layout.delay(ids, pad=-1)), ids)
    assert StreamLayout.from_dict(json.loads(json.dumps(layout.to_dict()))) == layout
    assert from_dict(StreamLayout, to_dict(layout)) == layout  # a model config can hold a layout


def test_layout_errors() -> None:
    with pytest.raises(ConfigError, match="at least one stream"):
        StreamLayout(())
    with pytest.raises(ConfigError, match=r"stream\(s\) \[1\] of the layout have no vocabulary size"):
        StreamLayout((StreamSpec("semantic", 10, 50.0), StreamSpec("semantic", 0, 50.0)))
    with pytest.raises(ConfigError, match="share one frame rate"):
        StreamLayout((StreamSpec("semantic", 10, 50.0), StreamSpec("text", 10, 12.5)))
    with pytest.raises(ConfigError, match="3 delays for 1 streams"):
        StreamLayout((StreamSpec("semantic", 10, 50.0),)).with_delays([0, 1, 2])
