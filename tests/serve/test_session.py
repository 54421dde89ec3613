"""Websocket clients in-process against a half-duplex server on loopback: a conversation with real speech, malformed
and oversized frames, a client that vanishes, idle and session limits, frame rate, barge-in, a bounded load test."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import numpy as np
import pytest
from helpers.serving import next_json, serve_config, with_silence

from spokenlm.serve.app import SESSIONS, SLOTS, SUMMARIES, BackgroundServer
from spokenlm.serve.latency import ProbeClient, measure_turn
from spokenlm.serve.pipelines import Audio, Pipeline, Responder
from spokenlm.serve.protocol import float_to_pcm


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_conversation_with_real_speech(server, speech):
    url, _ = server

    async def talk():
        async with ProbeClient(url) as client:
            measure = await measure_turn(client, with_silence(speech[0], 0.2))
            return client, measure, await client.end()

    client, measure, summary = run(talk())
    kinds = [m["type"] for _, m in client.heard.messages]
    assert client.ready["pipeline"] == "half-duplex" and client.ready["output_rate"] == 16000
    assert kinds[:2] == ["state", "state"] and {"turn", "reply_end", "summary"} <= set(kinds)
    assert len(measure.reply) > 16000 * 0.5 and np.abs(measure.reply).max() > 0.01
    assert measure.echo < 0.5 and measure.latency_ms is not None and measure.hangover_ms == pytest.approx(192.0)
    assert summary["frames_received"] == client.frames_sent and summary["turns"] == summary["replies"] == 1


def test_malformed_messages_get_errors_and_the_session_goes_on(server):
    url, _ = server

    async def abuse():
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            await next_json(ws, "ready")
            problems = []
            for send in (ws.send_bytes(b"\x01\x02\x03"), ws.send_bytes(b"RIFF" + b"\0" * 1000), ws.send_str("{not json"),
                         ws.send_str('{"type": "reboot"}'), ws.send_str("[]"), ws.send_bytes(b"\0" * 20000),
                         ws.send_str(json.dumps({"type": "format", "sample_rate": 44100}))):
                await send
                problems.append((await next_json(ws, "error"))["message"])
            await ws.send_bytes(float_to_pcm(np.zeros(320)))  # a good frame is still taken
            await ws.send_str('{"type": "end"}')
            return problems, await next_json(ws, "summary")

    problems, summary = run(abuse())
    assert "3 bytes; expected 640" in problems[0] and "1004 bytes" in problems[1]
    assert "not JSON" in problems[2] and "unknown message type 'reboot'" in problems[3] and "JSON object" in problems[4]
    assert "20000 bytes is over the limit of 16384" in problems[5] and "44100 Hz" in problems[6]
    assert summary["errors"] == 7 and summary["frames_received"] == 1


def test_a_huge_message_closes_cleanly_and_the_server_lives_on(server):
    url, background = server

    async def flood():
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(url) as ws:
                await next_json(ws, "ready")
                await ws.send_bytes(b"\0" * (5 * 16384))
                while (message := await ws.receive(timeout=20)).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    pass
                code = ws.close_code
            async with http.ws_connect(url) as ws:
                return code, await next_json(ws, "ready")

    code, ready = run(flood())
    assert code == 1009 and ready["type"] == "ready"


def test_a_client_that_vanishes_mid_stream_frees_its_session(server, speech):
    url, background = server

    async def vanish():
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(url)
        await next_json(ws, "ready")
        for start in range(0, 16000, 320):
            await ws.send_bytes(float_to_pcm(speech[0][start : start + 320]))
        await asyncio.sleep(0.5)
        ws._response.connection.transport.abort()  # no close frame: the network went away
        await http.close()
        for _ in range(100):
            if not background.app[SESSIONS]:
                break
            await asyncio.sleep(0.1)

    run(vanish())
    assert background.app[SESSIONS] == {} and background.app[SLOTS].open == 0
    assert 0 < background.app[SUMMARIES][-1]["frames_received"] <= 50


def test_too_many_sessions_are_refused_politely(half_duplex):
    async def crowd(url):
        async with aiohttp.ClientSession() as http:
            first = await http.ws_connect(url)
            await next_json(first, "ready")
            second = await http.ws_connect(url)
            refusal = await next_json(second, "error")
            await second.receive(timeout=10)
            code = second.close_code
            await first.close()
            return refusal, code

    with BackgroundServer(half_duplex, serve_config(max_sessions=1)) as url:
        refusal, code = run(crowd(url.replace("http", "ws") + "/ws"))
    assert "server is full (1 sessions)" in refusal["message"] and refusal["fatal"] and code == 1013


def test_idle_and_session_limits_close_with_a_reason(half_duplex):
    async def wait_for_error(url):
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            await next_json(ws, "ready")
            return (await next_json(ws, "error"))["message"], await next_json(ws, "summary")

    with BackgroundServer(half_duplex, serve_config(idle_seconds=0.5)) as url:
        idle, summary = run(wait_for_error(url.replace("http", "ws") + "/ws"))
    assert "nothing received for 0.5 s" in idle and summary["seconds"] < 10
    with BackgroundServer(half_duplex, serve_config(max_session_seconds=0.5, idle_seconds=5.0)) as url:
        length, _ = run(wait_for_error(url.replace("http", "ws") + "/ws"))
    assert "limit of 0.5 s" in length


def test_frames_faster_than_the_limit_are_dropped_with_an_error(half_duplex):
    async def hurry(url):
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            await next_json(ws, "ready")
            for _ in range(200):  # 4 s of audio at once; the budget allows a 2 s burst
                await ws.send_bytes(float_to_pcm(np.zeros(320)))
            error = await next_json(ws, "error")
            await ws.send_str('{"type": "end"}')
            return error, await next_json(ws, "summary")

    with BackgroundServer(half_duplex, serve_config(max_frame_rate=50.0)) as url:
        error, summary = run(hurry(url.replace("http", "ws") + "/ws"))
    assert "faster than 50 per second" in error["message"]
    assert summary["frames_received"] + summary["frames_rejected"] == 200 and 100 <= summary["frames_received"] < 150


def test_barge_in_stops_the_model_within_a_bounded_number_of_frames(server, speech):
    url, _ = server

    async def interrupt():
        async with ProbeClient(url) as client:
            return client, await measure_turn(client, with_silence(speech[0], 0.2), barge_in=speech[1], barge_after_s=0.1)

    client, measure = run(interrupt())
    stopped_at, stopped = client.heard.first("interrupted")
    assert measure.barge_in_ms is not None and client.heard.first("turn")[0] < stopped_at
    assert stopped["detected_sample"] - measure.barge_in_sample <= 8 * 512  # heard within 8 VAD windows (256 ms) of speech
    next_reply = client.heard.first("turn", stopped_at)  # the answer to the barge-in turn
    cut_reply = [s for t, s in client.heard.audio if stopped_at < t < (next_reply[0] if next_reply else float("inf"))]
    assert cut_reply == []  # nothing of the interrupted reply is sent after "interrupted"


def test_load_of_concurrent_sessions_loses_nothing(half_duplex, speech):
    sessions, seconds = 4, 6.0

    async def converse(url, offset):
        async with ProbeClient(url) as client:
            deadline = time.monotonic() + seconds
            turns = 0
            while time.monotonic() < deadline:
                await measure_turn(client, with_silence(speech[(offset + turns) % len(speech)], 0.2), timeout=30)
                turns += 1
            return client.frames_sent, turns, await client.end()

    async def crowd(url):
        return await asyncio.gather(*(converse(url, i) for i in range(sessions)))

    with BackgroundServer(half_duplex, serve_config()) as url:
        results = run(crowd(url.replace("http", "ws") + "/ws"))
    for sent, turns, summary in results:
        assert summary is not None and summary["frames_received"] == sent and summary["frames_rejected"] == 0
        assert summary["replies"] == turns and summary["rtf"] is not None


class Failing(Pipeline):
    """A pipeline whose every reply fails half-way (after some audio)."""

    name, config_type, output_rate = "failing", dict, 16000

    @classmethod
    def load(cls, model_dir, config):
        return cls()

    def open(self) -> Responder:
        class Broken(Responder):
            def respond(self, turn):
                yield Audio(np.zeros(1600, np.float32))
                raise RuntimeError("the model fell over")

        return Broken()


def test_a_failing_reply_is_reported_and_the_session_goes_on(speech):
    async def talk(url):
        async with ProbeClient(url) as client:
            await client.send(with_silence(speech[0], 0.2))
            error = await client.silence_until("error", 0.0, 30)
            await client.silence_until("state", error[0], 10)
            return error[1], await client.end()

    with BackgroundServer(Failing(), serve_config()) as url:
        error, summary = run(talk(url.replace("http", "ws") + "/ws"))
    assert "failing pipeline failed on this turn (RuntimeError: the model fell over)" in error["message"] and not error["fatal"]
    assert summary is not None and summary["turns"] == 1 and summary["replies"] == 0
