"""The application: safe defaults (loopback bind, token), the page and its files, health, HTTPS/WSS."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import aiohttp
import pytest
from helpers.serving import next_json, serve_config

from spokenlm.cli.serve import serve as serve_command
from spokenlm.errors import SpokenLMError
from spokenlm.serve.app import BackgroundServer, ServeConfig, ssl_context


def test_binds_loopback_unless_told_otherwise():
    import inspect

    assert ServeConfig().host == "127.0.0.1"
    assert inspect.signature(serve_command).parameters["host"].default.default == "127.0.0.1"


def test_token_is_required_when_set(half_duplex):
    async def knock(base):
        async with aiohttp.ClientSession() as http:
            statuses = []
            for url in (f"{base}/ws", f"{base}/ws?token=wrong"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(url)
                statuses.append(refused.value.status)
            async with http.get(f"{base.replace('ws', 'http', 1)}/health") as response:
                statuses.append(response.status)
            async with http.ws_connect(f"{base}/ws?token=s3cret") as ws:
                ready = await next_json(ws, "ready")
            async with http.ws_connect(f"{base}/ws", headers={"Authorization": "Bearer s3cret"}) as ws:
                bearer = await next_json(ws, "ready")
            return statuses, ready, bearer

    config = serve_config()
    config.token = "s3cret"
    with BackgroundServer(half_duplex, config) as url:
        statuses, ready, bearer = asyncio.run(knock(url.replace("http", "ws")))
    assert statuses == [401, 401, 401] and ready["type"] == bearer["type"] == "ready"


def test_page_files_and_health_are_served(half_duplex):
    async def fetch(base):
        async with aiohttp.ClientSession() as http:
            pages = {}
            for path in ("/", "/static/app.js", "/static/worklet.js", "/static/style.css", "/health", "/static/../app.py", "/ws"):
                async with http.get(base + path) as response:
                    pages[path] = (response.status, await response.text())
            return pages

    with BackgroundServer(half_duplex, serve_config()) as url:
        pages = asyncio.run(fetch(url))
    assert pages["/"][0] == 200 and 'id="transcript"' in pages["/"][1] and "/static/app.js" in pages["/"][1]
    assert "getUserMedia" in pages["/static/app.js"][1] and "echoCancellation: true" in pages["/static/app.js"][1]
    assert "registerProcessor" in pages["/static/worklet.js"][1] and pages["/static/style.css"][0] == 200
    assert '"pipeline": "half-duplex"' in pages["/health"][1] and pages["/static/../app.py"][0] == 404
    assert pages["/ws"][0] == 400  # a plain GET is no websocket


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_https_and_wss_with_a_certificate(half_duplex, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)

    async def secure(base):
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{base}/ws", ssl=False) as ws:
            return await next_json(ws, "ready")

    config = serve_config()
    config.tls_cert, config.tls_key = str(cert), str(key)
    with BackgroundServer(half_duplex, config) as url:
        assert url.startswith("https://") and asyncio.run(secure(url.replace("https", "wss")))["type"] == "ready"
    config.tls_key = ""
    with pytest.raises(SpokenLMError, match="go together"):
        ssl_context(config)
