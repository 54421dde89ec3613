"""``spokenlm serve``: talk to a model in the browser (websocket server + web page)."""

from __future__ import annotations

from pathlib import Path

import typer

from spokenlm.cli.apps import app
from spokenlm.cli.common import console, user_errors

SERVE_HELP = (
    "Serve a spoken LM for real-time conversation: a websocket server and a web page at http://HOST:PORT/.\n\n"
    "MODEL_DIR holds tokenizer/, lm/model/ (or lm/) and vocoder/vocoder/ (or vocoder/), each a saved folder with a "
    "config.json, and optionally generation/text_lm/ (a word n-gram for the cascade): what `spokenlm quickstart` "
    "writes, so `spokenlm serve runs/quickstart` works right after it.\n\n"
    "Pipelines: half-duplex (VAD end of turn → tokenizer → unit LM continuation → streaming vocoder) and cascade "
    "(Whisper ASR → word n-gram → espeak-ng, sentence by sentence; MODEL_DIR optional). Pipeline settings are "
    "key=value overrides (e.g. temperature=0.7 reply_units=80); server settings take a session. prefix "
    "(e.g. session.limits.idle_seconds=60 session.turns.end_silence_s=0.25).\n\n"
    "It binds 127.0.0.1 unless --host is given. Browsers give the microphone only to https pages or localhost: "
    "to serve other machines pass --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem, and set a --token."
)


@app.command(help=SERVE_HELP)
def serve(
    model_dir: Path = typer.Argument(None, help="Model folder (see above); optional for the cascade.", show_default=False),
    overrides: list[str] | None = typer.Argument(None, help="key=value pipeline settings; session.* for the server.", show_default=False),
    pipeline: str = typer.Option("half-duplex", "--pipeline", "-p", help="half-duplex or cascade."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (127.0.0.1: this machine only)."),
    port: int = typer.Option(8998, help="TCP port."),
    token: str = typer.Option("", envvar="SPOKENLM_SERVE_TOKEN", help="Clients must send ?token=TOKEN (or a Bearer header)."),
    tls_cert: Path = typer.Option(None, help="PEM certificate: serve HTTPS/WSS (with --tls-key).", show_default=False),
    tls_key: Path = typer.Option(None, help="PEM private key of --tls-cert.", show_default=False),
    max_sessions: int = typer.Option(4, help="Concurrent sessions; more are refused politely."),
) -> None:
    """Serve a spoken LM for real-time conversation (websocket server + web page); see SERVE_HELP."""
    from spokenlm.config import load_config
    from spokenlm.perf import configure_cpu_threads
    from spokenlm.serve.app import ServeConfig, run_server, ssl_context
    from spokenlm.serve.pipelines import build_pipeline

    overrides = list(overrides or [])
    if model_dir is not None and "=" in model_dir.name:
        overrides, model_dir = [str(model_dir), *overrides], None
    server = [o for o in overrides if o.startswith("session.")]
    with user_errors():
        config = load_config(ServeConfig, None, [f"host={host}", f"port={port}", f"token={token}",
                                                 f"tls_cert={tls_cert or ''}", f"tls_key={tls_key or ''}",
                                                 f"session.limits.max_sessions={max_sessions}", *server])
        ssl_context(config)  # a bad certificate fails now, in one line
        configure_cpu_threads()
        console.print(f"loading the {pipeline} pipeline{f' from {model_dir}' if model_dir else ''}…", highlight=False)
        served = build_pipeline(pipeline, model_dir, [o for o in overrides if o not in server])
    run_server(served, config)
