"""The web page in a real browser: headless Chromium with a fake microphone playing real speech, talking to the cascade.

It asserts that non-silent audio came back and is no echo of the input, and that the transcript of what was said
appeared on the page; a screenshot is kept (in the test's tmp folder, and in $SPOKENLM_TEST_ARTIFACTS when set).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import time
from pathlib import Path

import aiohttp
import numpy as np
import pytest
import soundfile as sf
from helpers.cdp import Chromium, DevTools, find_chromium
from helpers.serving import serve_config, with_silence

from spokenlm.serve.app import BackgroundServer
from spokenlm.serve.latency import echo_correlation

pytestmark = [pytest.mark.slow, pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed (scripts/setup.sh)")]

SEEN = """JSON.stringify({texts: window.spokenlm.texts, errors: window.spokenlm.errors, states: window.spokenlm.states,
                      received: window.spokenlm.received.reduce((n, c) => n + c.length, 0), latencies: window.spokenlm.latencies})"""
AUDIO = "Array.from(window.spokenlm.received.reduce((all, c) => { const x = new Float32Array(all.length + c.length); " \
        "x.set(all); x.set(c, all.length); return x; }, new Float32Array(0)))"


async def talk(devtools_url: str, screenshot: Path) -> tuple[dict, np.ndarray, str]:
    async with aiohttp.ClientSession() as http:
        page = await DevTools.page(http, devtools_url)
        await page.call("Runtime.enable")
        deadline = time.monotonic() + 30
        while not await page.evaluate("document.readyState === 'complete' && !!window.spokenlm") and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await page.evaluate("document.getElementById('start').click()", gesture=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            seen = json.loads(await page.evaluate(SEEN))
            if seen["errors"] or (seen["received"] > 8000 and "listening" in seen["states"][seen["states"].index("speaking"):]
                                  if "speaking" in seen["states"] else False):
                break
            await asyncio.sleep(0.5)
        audio = np.array(await page.evaluate(AUDIO), dtype=np.float32)
        transcript = await page.evaluate("document.getElementById('transcript').textContent")
        shot = await page.call("Page.captureScreenshot", format="png")
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        await page.ws.close()
        return seen, audio, transcript


def test_the_page_talks_with_the_cascade_in_chromium(cascade, speech, tmp_path):
    prompt = with_silence(speech[0], 12.0)  # the fake microphone loops the file: a long pause lets the reply finish
    sf.write(tmp_path / "mic.wav", prompt, 16000, subtype="PCM_16")
    with BackgroundServer(cascade, serve_config()) as url, Chromium(url + "/", tmp_path / "mic.wav", tmp_path / "profile") as devtools:
        seen, audio, transcript = asyncio.run(talk(devtools, tmp_path / "page.png"))
    if os.environ.get("SPOKENLM_TEST_ARTIFACTS"):
        shutil.copy(tmp_path / "page.png", Path(os.environ["SPOKENLM_TEST_ARTIFACTS"]) / "serve_page.png")
    assert seen["errors"] == [], seen
    assert len(audio) > 8000 and np.abs(audio).max() > 0.05  # non-silent audio came back
    assert echo_correlation(audio, speech[0]) < 0.5  # and it is not the input played back
    assert "small dog" in transcript.lower() and seen["texts"][0]["role"] == "user"
    assert (tmp_path / "page.png").stat().st_size > 10000
