"""The aiohttp application: the page at ``/``, its files under ``/static/``, sessions at ``/ws``, ``/health``.

    app = build_app(pipeline, ServeConfig(token="secret"))
    run_server(pipeline, ServeConfig(host="0.0.0.0", tls_cert="cert.pem", tls_key="key.pem"))

Safe by default: binds 127.0.0.1 unless told otherwise; with a token, ``/ws`` and ``/health`` need it
(``?token=`` or ``Authorization: Bearer``); a session over the concurrency limit is told so and closed (1013).
"""

from __future__ import annotations

import hmac
import itertools
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from spokenlm.errors import MissingDependencyError, SpokenLMError
from spokenlm.serve.limits import SessionSlots
from spokenlm.serve.pipelines.base import Pipeline
from spokenlm.serve.protocol import encode
from spokenlm.serve.session import Session, SessionConfig

try:
    from aiohttp import web
except ImportError as err:
    raise MissingDependencyError("aiohttp", "serve", "the voice server") from err

log = logging.getLogger("spokenlm.serve")
SESSIONS = web.AppKey("sessions", dict)  # open session id → Session
SUMMARIES = web.AppKey("summaries", deque)  # the last 100 session summaries
SLOTS = web.AppKey("slots", SessionSlots)
STATIC = Path(str(resources.files("spokenlm") / "serve" / "static"))
TRY_AGAIN_LATER = 1013  # websocket close code


@dataclass
class ServeConfig:
    """How ``spokenlm serve`` listens.

    Attributes:
        host: interface to bind; 127.0.0.1 (this machine only) unless set. Browsers give the microphone only to
            https pages or localhost, so serving other machines needs ``tls_cert`` and ``tls_key``.
        port: TCP port.
        token: when set, clients must present it.
        tls_cert / tls_key: PEM files; with both the server speaks HTTPS and WSS.
        compute_threads: threads that run model steps (sessions share them; the LM batches their turns).
        session: per-session settings (frame size, lead, limits, turn detection).
    """

    host: str = "127.0.0.1"
    port: int = 8998
    token: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    compute_threads: int = 2
    session: SessionConfig = field(default_factory=SessionConfig)


def _authorized(request, token: str) -> bool:
    if not token:
        return True
    offered = request.query.get("token", "")
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        offered = header[len("Bearer "):]
    return hmac.compare_digest(offered.encode(), token.encode())


def build_app(pipeline: Pipeline, config: ServeConfig):
    """The ``aiohttp.web.Application`` serving ``pipeline``; ``app[SESSIONS]``, ``app[SUMMARIES]``, ``app[SLOTS]``
    show what it is doing."""
    app = web.Application()
    compute = ThreadPoolExecutor(config.compute_threads, thread_name_prefix="spokenlm-compute")
    slots = SessionSlots(config.session.limits.max_sessions)
    ids = itertools.count(1)
    app[SESSIONS], app[SUMMARIES], app[SLOTS] = {}, deque(maxlen=100), slots
    limit = config.session.limits.max_message_bytes

    async def page(request):
        return web.FileResponse(STATIC / "index.html")

    async def health(request):
        if not _authorized(request, config.token):
            raise web.HTTPUnauthorized(text="missing or wrong token\n")
        return web.json_response({**pipeline.describe(), "sessions": slots.open, "max_sessions": slots.capacity})

    async def websocket(request):
        client = f"client {request.remote}"
        if not _authorized(request, config.token):
            log.warning("%s: refused: missing or wrong token", client)
            raise web.HTTPUnauthorized(text="missing or wrong token\n")
        ws = web.WebSocketResponse(max_msg_size=4 * limit, heartbeat=20.0)
        await ws.prepare(request)
        if not slots.acquire():
            log.warning("%s: refused: %d sessions already open", client, slots.capacity)
            await ws.send_str(encode("error", message=f"the server is full ({slots.capacity} sessions); try again later", fatal=True))
            await ws.close(code=TRY_AGAIN_LATER, message=b"server full")
            return ws
        session_id = f"s{next(ids)}"
        session = Session(session_id, f"{client} ({session_id})", ws, pipeline, config.session, compute)
        app[SESSIONS][session_id] = session
        try:
            app[SUMMARIES].append(await session.run())
        finally:
            app[SESSIONS].pop(session_id, None)
            slots.release()
        return ws

    async def shutdown(app):
        compute.shutdown(wait=False, cancel_futures=True)

    app.router.add_get("/", page)
    app.router.add_get("/health", health)
    app.router.add_get("/ws", websocket)
    app.router.add_static("/static/", STATIC)
    app.on_cleanup.append(shutdown)
    return app


def ssl_context(config: ServeConfig):
    """An SSL context from ``tls_cert``/``tls_key``, or ``None`` for plain HTTP; one of the two alone is an error."""
    if not config.tls_cert and not config.tls_key:
        return None
    if not (config.tls_cert and config.tls_key):
        raise SpokenLMError("--tls-cert and --tls-key go together")
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as err:
        raise SpokenLMError(f"{config.tls_cert} / {config.tls_key}: cannot load the TLS certificate ({err})") from err
    return context


def run_server(pipeline: Pipeline, config: ServeConfig) -> None:
    """Serve until interrupted (Ctrl-C)."""
    context = ssl_context(config)
    scheme = "https" if context else "http"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    token = f"?token={config.token}" if config.token else ""
    print(f"serving {pipeline.name} on {scheme}://{config.host}:{config.port}/{token}  (Ctrl-C stops)", flush=True)
    web.run_app(build_app(pipeline, config), host=config.host, port=config.port, ssl_context=context, print=None)


class BackgroundServer:
    """Serve ``pipeline`` from a thread of this process (benchmarks, tests): ``with BackgroundServer(p, c) as url``.

    ``port=0`` in the config picks a free port; ``url`` is ``http://host:port`` (https with TLS); ``app`` is the
    running application.
    """

    def __init__(self, pipeline: Pipeline, config: ServeConfig) -> None:
        self.pipeline, self.config = pipeline, config
        self.app = None

    def __enter__(self) -> str:
        import asyncio
        import threading

        started = threading.Event()
        self.loop = asyncio.new_event_loop()

        async def start() -> None:
            self.app = build_app(self.pipeline, self.config)
            self.runner = web.AppRunner(self.app, handle_signals=False)
            await self.runner.setup()
            site = web.TCPSite(self.runner, self.config.host, self.config.port, ssl_context=ssl_context(self.config))
            await site.start()
            self.port = self.runner.addresses[0][1]
            started.set()

        def run() -> None:
            self.loop.run_until_complete(start())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="spokenlm-serve", daemon=True)
        self.thread.start()
        if not started.wait(60):
            raise SpokenLMError("the server did not start within 60 s")
        return f"{'https' if self.config.tls_cert else 'http'}://{self.config.host}:{self.port}"

    def __exit__(self, *exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
