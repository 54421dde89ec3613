"""The latency probe: its pieces on known signals, and one measured turn on each pipeline."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from helpers.serving import serve_config, with_silence

from spokenlm.serve.app import BackgroundServer
from spokenlm.serve.latency import Heard, ProbeClient, echo_correlation, first_loud, measure_turn, voiced_span


def test_echo_correlation_sees_a_delayed_copy_and_not_other_speech(speech):
    a, b = speech[0], speech[1]
    assert echo_correlation(np.concatenate([np.zeros(1234, np.float32), 0.5 * a]), a) > 0.99
    assert echo_correlation(b, a) < 0.5


def test_playout_is_gapless_from_arrival_and_finds_the_first_loud_sample():
    heard = Heard(audio=[(1.0, np.zeros(100, np.float32)), (1.001, np.r_[np.zeros(50), 0.5, np.zeros(49)].astype(np.float32)),
                         (5.0, np.ones(10, np.float32))])
    played = heard.playout(1000)
    assert [t for t, _ in played] == [1.0, 1.1, 5.0]  # the second chunk waits for the first; the third starts on arrival
    assert first_loud(played, 1000) == pytest.approx(1.15)
    assert heard.playout(1000, cut=2.0)[-1][0] == 1.1


def test_voiced_span_of_real_speech(speech):
    first, last = voiced_span(with_silence(speech[0], 1.0))
    assert first < 0.2 and abs(last - len(speech[0]) / 16000) < 0.03  # the clip ends as the speech does


@pytest.mark.parametrize("pipeline", ["half-duplex", "cascade"])
def test_the_probe_measures_each_pipeline(pipeline, request, speech):
    served = request.getfixturevalue(pipeline.replace("-", "_"))

    async def probe(url):
        async with ProbeClient(url) as client:
            return client, await measure_turn(client, with_silence(speech[0], 0.2), timeout=60)

    with BackgroundServer(served, serve_config()) as url:
        client, measure = asyncio.run(probe(url.replace("http", "ws") + "/ws"))
    assert measure.latency_ms is not None and measure.latency_ms > 0 and measure.hangover_ms > 0  # no timing claims here
    assert measure.server_first_audio_ms >= 0 and measure.echo < 0.5  # 0: answered ahead, at a pause
    if pipeline == "cascade":
        heard = [m["text"] for _, m in client.heard.messages if m["type"] == "text" and m["role"] == "user"]
        assert "small dog" in heard[0].lower()
