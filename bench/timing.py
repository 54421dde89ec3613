"""Shared by the LM benchmarks: the machine they ran on, interleaved timing, and the rates that bound a decode step.

``describe()``: the CPU model and its vector extensions (lscpu), cores, torch's CPU capability and any ISA cap set
in the environment, and the load (uptime). ``interleaved()`` times variants in turn, round after round.
``gemm_rate()`` and ``copy_bandwidth()`` measure, in the calling process, the fp32 matmul FLOP/s and the memory
bandwidth a roofline bound of a step is computed from.

    python bench/timing.py --rates
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

ISA_CAPS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def describe() -> str:
    """One paragraph: CPU model, AVX2/AVX-512/AMX, cores, torch's capability, ISA caps in effect, load."""
    import torch

    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    field = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lscpu if ":" in line}
    flags = set(field.get("Flags", "").split())
    isa = ", ".join(f"{name} {'yes' if any(f.startswith(prefix) for f in flags) else 'no'}"
                    for name, prefix in (("AVX2", "avx2"), ("AVX-512", "avx512f"), ("AVX-512 BF16", "avx512_bf16"), ("AMX", "amx_tile")))
    caps = ", ".join(f"{k}={os.environ[k]}" for k in ISA_CAPS if k in os.environ) or "none"
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return (f"CPU: {field.get('Model name', 'unknown')} ({os.cpu_count()} cores; {isa}); torch {torch.__version__} "
            f"capability {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} thread(s); ISA caps: {caps}\n"
            f"load: {load}")


def interleaved(variants: dict, rounds: int, label=lambda name, seconds: f"{seconds:.3f} s") -> dict[str, list[float]]:
    """Run every variant once per round, in turn, ``rounds`` times; returns the seconds of each run by variant."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for round_index in range(rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
            print(f"round {round_index + 1} {name:14s} {label(name, times[name][-1])}", flush=True)
    return times


def gemm_rate(size: int = 1024, repeats: int = 5) -> float:
    """fp32 FLOP/s of a ``size``³ matmul (median of ``repeats``)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times)


def copy_bandwidth(mib: int = 256, repeats: int = 5) -> float:
    """Bytes/s moved by copying a ``mib`` MiB buffer (read + write, STREAM's convention; median of ``repeats``)."""
    import torch

    src = torch.ones(mib * 2**20 // 4)
    dst = torch.empty_like(src)
    dst.copy_(src)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        dst.copy_(src)
        times.append(time.perf_counter() - start)
    return 2 * src.numel() * 4 / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", action="store_true", help="also measure the GEMM rate and the copy bandwidth")
    args = parser.parse_args()
    print(describe())
    if args.rates:
        print(f"fp32 GEMM {gemm_rate() / 1e9:.1f} GFLOP/s; copy bandwidth {copy_bandwidth() / 1e9:.1f} GB/s")


if __name__ == "__main__":
    main()
