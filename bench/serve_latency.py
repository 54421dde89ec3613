"""Latency of `spokenlm serve` as a listener hears it, per pipeline, plus barge-in time and session capacity.

For each pipeline, ``--prompts`` real speech prompts (tests/assets: Harvard sentences and LJSpeech) are spoken at 1×
speed over a loopback websocket by the latency probe (:mod:`spokenlm.serve.latency`). Latency runs from each prompt's
last voiced sample to the first output sample above −40 dBFS as the client plays it; the server's VAD hang-over is
included and printed beside it, and so are false ends of turn (turns the server ended at a pause inside a prompt;
latency is measured on the reply to the whole prompt). Barge-in: on ``--barge-ins`` replies the next prompt is spoken over the reply, and
the time until the client goes silent is measured. Capacity: 1, 2, 4 … concurrent half-duplex sessions converse for
``--load-seconds`` each, until the median session real-time factor (compute seconds / reply audio seconds) passes 1;
then N = max(4, capacity) sessions run ``--hold-seconds`` and every frame sent must have been received.

    python bench/serve_latency.py                                   # tiny untrained models (built in a temp folder)
    python bench/serve_latency.py --model-dir runs/quickstart       # the quickstart's models
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def real_prompts(count: int) -> list[np.ndarray]:
    """``count`` real speech prompts at 16 kHz: the speechbrain Harvard sentences, then LJSpeech clips."""
    from spokenlm.audio.io import load_audio

    assets = REPO / "tests" / "assets"
    paths = sorted((assets / "speechbrain" / "ASR").glob("*.wav")) + sorted((assets / "ljspeech").glob("*.flac"))
    return [load_audio(path, 16000)[0][: 16000 * 6] for path in paths[:count]]


def quantiles(values: list[float]) -> str:
    if not values:
        return "–"
    q = np.percentile(values, [50, 90])
    return f"p50 {q[0]:.0f} / p90 {q[1]:.0f} ms (n={len(values)})"


async def converse(url: str, prompts: list[np.ndarray], barge_ins: int) -> list:
    from spokenlm.serve.latency import ProbeClient, measure_turn

    out = []
    async with ProbeClient(url) as client:
        for index, prompt in enumerate(prompts):
            barge = prompts[(index + 1) % len(prompts)] if index < barge_ins else None
            out.append(await measure_turn(client, prompt, barge_in=barge, timeout=60))
        await client.end()
    return out


async def crowd(url: str, prompts: list[np.ndarray], sessions: int, seconds: float) -> list[tuple[int, dict | None]]:
    from spokenlm.serve.latency import ProbeClient, measure_turn

    async def one(offset: int) -> tuple[int, dict | None]:
        async with ProbeClient(url) as client:
            deadline, turn = time.monotonic() + seconds, 0
            while time.monotonic() < deadline:
                await measure_turn(client, prompts[(offset + turn) % len(prompts)], timeout=60)
                turn += 1
            return client.frames_sent, await client.end()

    return await asyncio.gather(*(one(i) for i in range(sessions)))


def session_rtf(results: list[tuple[int, dict | None]]) -> tuple[float, bool]:
    """Median real-time factor of the sessions, and whether every session kept every frame."""
    rtfs = [s["rtf"] for _, s in results if s and s["rtf"] is not None]
    whole = all(s is not None and s["frames_received"] == sent and s["frames_rejected"] == 0 for sent, s in results)
    return (statistics.median(rtfs) if rtfs else float("inf")), whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, help="a MODEL_DIR (default: tiny untrained models)")
    parser.add_argument("--pipelines", default="half-duplex,cascade")
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--barge-ins", type=int, default=5)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--hold-seconds", type=float, default=60.0)
    parser.add_argument("--max-sessions", type=int, default=16)
    parser.add_argument("--hangover-ms", type=float, help="the VAD hang-over (default: the server's, TurnConfig.end_silence_s)")
    args = parser.parse_args()

    from spokenlm.perf import configure_cpu_threads
    from spokenlm.serve.app import BackgroundServer, ServeConfig
    from spokenlm.serve.pipelines import build_pipeline
    from spokenlm.serve.pipelines.model_dir import write_random_model_dir

    threads = configure_cpu_threads()
    prompts = real_prompts(args.prompts)
    model_dir = args.model_dir
    if model_dir is None:
        model_dir = write_random_model_dir(Path(tempfile.mkdtemp()) / "tiny", prompts[:12])
    config = ServeConfig(port=0)
    config.session.limits.max_sessions = args.max_sessions
    if args.hangover_ms is not None:
        config.session.turns.end_silence_s = args.hangover_ms / 1000
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU") if Path("/proc/cpuinfo").exists() else "unknown CPU"
    print(f"machine: {cpu}, {threads} torch thread(s); model dir {model_dir}")
    detection = config.session.turns
    print(f"VAD hang-over (end of turn after silence): {detection.end_silence_s * 1000:.0f} ms, included below; "
          f"replies start at pauses of {detection.pause_s * 1000:.0f} ms where the pipeline allows it, sent when the turn ends")
    half_duplex = None
    for name in args.pipelines.split(","):
        pipeline = build_pipeline(name, model_dir)
        half_duplex = pipeline if name == "half-duplex" else half_duplex
        with BackgroundServer(pipeline, config) as url:
            turns = asyncio.run(converse(url.replace("http", "ws") + "/ws", prompts, args.barge_ins))
        plain = [t for t in turns if t.barge_in_ms is None]
        print(f"\n{name}:")
        print(f"  latency (last voiced sample → first output sample > −40 dBFS): {quantiles([t.latency_ms for t in plain if t.latency_ms is not None])}")
        print(f"  of which server: turn end → first audio sent: {quantiles([t.server_first_audio_ms for t in plain if t.server_first_audio_ms is not None])}")
        print(f"  of which VAD: its last speech after the prompt's last voiced sample: {quantiles([t.vad_end_ms for t in plain if t.vad_end_ms is not None])}")
        print(f"  of which VAD hang-over measured: {quantiles([t.hangover_ms for t in plain if t.hangover_ms is not None])}")
        print(f"  barge-in (speech onset → client silent): {quantiles([t.barge_in_ms for t in turns if t.barge_in_ms is not None])}")
        print(f"  echo correlation of reply with prompt: max {max((t.echo for t in turns), default=float('nan')):.3f}")
        print(f"  unanswered prompts: {sum(t.latency_ms is None for t in plain)}")
        print(f"  false ends of turn (the server ended a turn inside a prompt): {sum(t.false_ends for t in turns)} "
              f"in {sum(t.false_ends > 0 for t in turns)} of {len(turns)} prompts")
    if half_duplex is None:
        return
    capacity, sessions = 0, 1
    with BackgroundServer(half_duplex, config) as url:
        while sessions <= args.max_sessions:
            rtf, whole = session_rtf(asyncio.run(crowd(url.replace("http", "ws") + "/ws", prompts, sessions, args.load_seconds)))
            print(f"  {sessions} concurrent half-duplex sessions: median session RTF {rtf:.3f}, every frame received: {whole}")
            if rtf > 1 or not whole:
                break
            capacity, sessions = sessions, sessions * 2
        hold = max(4, capacity)
        rtf, whole = session_rtf(asyncio.run(crowd(url.replace("http", "ws") + "/ws", prompts, hold, args.hold_seconds)))
    print(f"\ncapacity: {capacity} sessions before the RTF passes 1 (tried up to {args.max_sessions})")
    print(f"load: {hold} sessions for {args.hold_seconds:.0f} s: median RTF {rtf:.3f}, no dropped session or lost frame: {whole}")
    sys.exit(0 if whole else 1)


if __name__ == "__main__":
    main()
