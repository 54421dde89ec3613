"""A small Chrome DevTools protocol client (aiohttp websockets) and a headless Chromium with a fake microphone."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any


def find_chromium() -> str | None:
    """Debian's chromium (scripts/setup.sh installs it), or another Chrome on PATH."""
    return next((path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None)


class Chromium:
    """``with Chromium(url, fake_audio=wav_path, profile=dir) as devtools_http_url`` — headless, microphone from a WAV file."""

    def __init__(self, url: str, fake_audio: Path, profile: Path) -> None:
        self.url, self.fake_audio, self.profile = url, fake_audio, profile

    def __enter__(self) -> str:
        args = [find_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-audio-capture={self.fake_audio}", "--autoplay-policy=no-user-gesture-required",
                "--window-size=900,700", self.url]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        for line in self.process.stderr:
            if match := re.search(r"DevTools listening on ws://([^/]+)/", line):
                return f"http://{match.group(1)}"
            if time.monotonic() > deadline:
                break
        self.__exit__()
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class DevTools:
    """One page's DevTools session: ``await call(method, **params)``, ``await evaluate(js)``."""

    def __init__(self, ws: Any) -> None:
        self.ws, self.ids = ws, itertools.count(1)

    @classmethod
    async def page(cls, http: Any, devtools_url: str, timeout: float = 30.0) -> DevTools:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async with http.get(f"{devtools_url}/json/list") as response:
                pages = [t for t in await response.json() if t["type"] == "page"]
            if pages:
                return cls(await http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0))
            await asyncio.sleep(0.2)
        raise RuntimeError("no page target in chromium")

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads((await self.ws.receive(timeout=60)).data)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    async def evaluate(self, expression: str, gesture: bool = False) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True, userGesture=gesture)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")
