"""The wire format: PCM frames and JSON messages both ways, and the errors a client's mistakes get."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spokenlm.serve.protocol import ProtocolError, check_format, decode, encode, float_to_pcm, pcm_to_float


def test_pcm_round_trip_of_real_speech(speech):
    wav = speech[0][:320]
    back = pcm_to_float(float_to_pcm(wav), 320)
    assert back.dtype == np.float32 and back.shape == (320,)
    assert np.abs(back - wav).max() <= 1.5 / 32768


def test_pcm_clips_and_rejects_other_sizes():
    assert pcm_to_float(float_to_pcm(np.array([2.0, -2.0])), 2).tolist() == [32767 / 32768, -32767 / 32768]
    for size in (0, 639, 641, 1280):
        with pytest.raises(ProtocolError, match=f"{size} bytes; expected 640"):
            pcm_to_float(b"\0" * size, 320)


def test_json_messages_round_trip():
    message = json.loads(encode("text", role="user", text="hello"))
    assert message == {"type": "text", "role": "user", "text": "hello"}
    assert decode(json.dumps({"type": "end"})) == {"type": "end"}
    with pytest.raises(ValueError):
        encode("not-a-kind")


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not JSON"), ("[1, 2]", "JSON object"), ('{"kind": "end"}', "JSON object"),
    ('{"type": "shutdown"}', "unknown message type 'shutdown'"), ("[" * 100000, "not JSON"),
])
def test_bad_control_messages_say_what_is_wrong(text, problem):
    with pytest.raises(ProtocolError, match=problem):
        decode(text)


def test_format_message_must_match_the_server():
    check_format({"type": "format", "sample_rate": 16000, "frame_samples": 320}, 16000, 320)
    with pytest.raises(ProtocolError, match="48000 Hz"):
        check_format({"type": "format", "sample_rate": 48000}, 16000, 320)
