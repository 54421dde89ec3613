"""CPU performance defaults: allocator thresholds, thread count, and the peak FLOP/s that MFU is measured against.

glibc malloc returns large freed blocks to the kernel (``munmap``/``madvise``) and maps
them again on the next step: on small-core CPUs that page-faulting can take a large share of
a training step. Raising ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` keeps the memory in
the process. :func:`configure_cpu_allocator` does this with ``mallopt`` at run time (no
restart needed); it is a no-op on non-glibc systems, when ``SPOKENLM_MALLOC=default``, or
when the ``MALLOC_*`` environment variables / an ``LD_PRELOAD`` allocator are set already.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import time
from collections.abc import Callable

import torch

PEAK_FLOPS_ENV = "SPOKENLM_PEAK_FLOPS"
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
LARGE_THRESHOLD = 1 << 30  # 1 GiB: blocks below this are reused from the heap instead of mmap/munmap each step

_configured = False


def configure_cpu_allocator() -> bool:
    """Raise glibc's mmap/trim thresholds once per process; returns whether they were changed."""
    global _configured
    if _configured:
        return True
    env = os.environ
    if env.get("SPOKENLM_MALLOC") == "default" or "LD_PRELOAD" in env or any(k.startswith("MALLOC_") for k in env):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt"):
        return False
    ok = libc.mallopt(M_MMAP_THRESHOLD, ctypes.c_int(LARGE_THRESHOLD)) == 1
    ok = libc.mallopt(M_TRIM_THRESHOLD, ctypes.c_int(LARGE_THRESHOLD)) == 1 and ok
    _configured = ok
    return ok


def other_runnable_tasks(samples: int = 5, interval: float = 0.05) -> int:
    """Runnable tasks on this machine besides the caller, the median of a few instant samples.

    Reads ``nr_running`` from ``/proc/loadavg`` (which counts the reading thread itself); the
    1-minute load average lags by a minute, so a job that starts right after a multi-process
    one would wrongly see the cores as busy. Falls back to the load average elsewhere.
    """
    try:
        counts = []
        for i in range(samples):
            with open("/proc/loadavg") as handle:
                counts.append(int(handle.read().split()[3].split("/")[0]) - 1)
            if i + 1 < samples:
                time.sleep(interval)
        return sorted(counts)[len(counts) // 2]
    except (OSError, IndexError, ValueError):
        return int(os.getloadavg()[0])


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one, else every core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure_cpu_threads(other_tasks: Callable[[], int] = other_runnable_tasks, cores: int | None = None) -> int:
    """Intra-op threads = the cores other processes leave free now (at least 1, at most ``cores``); returns the count.

    Call it where each long job starts (every quickstart stage, every training run, every
    evaluation): the count goes down under load and back up when the load has gone, so a
    moment of load never fixes one thread for the rest of the process. OpenMP workers wait
    for each other at every op; when other processes hold the cores a 2-thread small-model
    step measured ~25× slower than a 1-thread one here. Left alone when ``OMP_NUM_THREADS``
    is set. ``other_tasks`` reads the runnable tasks besides this one (tests pass a fake);
    ``cores`` defaults to :func:`usable_cores`.
    """
    if "OMP_NUM_THREADS" not in os.environ:
        cores = cores or usable_cores()
        wanted = min(cores, max(1, cores - other_tasks()))
        if wanted != torch.get_num_threads():
            torch.set_num_threads(wanted)
    return torch.get_num_threads()


def resolve_device(name: str) -> torch.device:
    """``auto`` → ``cuda:LOCAL_RANK`` when CUDA is available (one GPU per torchrun rank), else the CPU; other names as torch reads them."""
    if name != "auto":
        return torch.device(name)
    return torch.device(f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu")


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AMX tiles or AVX-512 BF16): where bf16 autocast pays off."""
    return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()


def uses_bf16(precision: str, device: torch.device) -> bool:
    """Whether ``precision`` (``auto`` | ``fp32`` | ``bf16``) means bf16 autocast on ``device``.

    ``auto`` picks bf16 on GPUs that support it and on CPUs with AMX / AVX-512 BF16, where
    training measured 1.7–2.3× faster than fp32 here (weights and optimizer state stay fp32).
    """
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if precision != "auto":
        return precision == "bf16"
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_fast_bf16()


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast where :func:`uses_bf16`, else a no-op context."""
    return torch.autocast(device.type, dtype=torch.bfloat16) if uses_bf16(precision, device) else contextlib.nullcontext()


def cpu_flops_per_cycle(dtype: torch.dtype = torch.float32) -> int:
    """Peak FLOP per cycle and core for matmuls in ``dtype``: AMX-BF16 tiles 2048, AVX-512 64, AVX2 32 (fp32)."""
    if dtype == torch.bfloat16 and torch.cpu._is_amx_tile_supported():
        return 2048
    if torch.cpu._is_avx512_supported():
        return 128 if dtype == torch.bfloat16 and torch.cpu._is_avx512_bf16_supported() else 64
    return 32


def cpu_peak_flops(dtype: torch.dtype = torch.float32) -> float:
    """Peak matmul FLOP/s of the threads in use: threads × GHz × :func:`cpu_flops_per_cycle`, or ``$SPOKENLM_PEAK_FLOPS``."""
    if PEAK_FLOPS_ENV in os.environ:
        return float(os.environ[PEAK_FLOPS_ENV])
    mhz = 0.0
    try:
        with open("/proc/cpuinfo") as handle:
            speeds = [float(line.split(":")[1]) for line in handle if line.startswith("cpu MHz")]
        mhz = max(speeds) if speeds else 0.0
    except OSError:
        pass
    return torch.get_num_threads() * mhz * 1e6 * cpu_flops_per_cycle(dtype)


def peak_flops(device: torch.device, dtype: torch.dtype = torch.float32) -> float:
    """Peak FLOP/s used for model-FLOPs utilisation (0 when unknown, e.g. GPUs without ``$SPOKENLM_PEAK_FLOPS``)."""
    if device.type == "cpu":
        return cpu_peak_flops(dtype)
    return float(os.environ.get(PEAK_FLOPS_ENV, 0.0))


def cpu_model() -> str:
    """The CPU's model name as ``lscpu`` prints it, with its family and model numbers (e.g. ``AMD EPYC (family 25, model 1)``).

    Falls back to ``/proc/cpuinfo`` and then to :func:`platform.processor` where ``lscpu`` is missing.
    """
    import platform
    import subprocess

    fields: dict[str, str] = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, env={**os.environ, "LC_ALL": "C"}).stdout
        fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines()) if v}
    except (OSError, subprocess.SubprocessError):
        pass
    name = fields.get("Model name", "")
    if not name:
        try:
            with open("/proc/cpuinfo") as handle:
                name = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
        except OSError:
            name = ""
    name = name or platform.processor() or "unknown CPU"
    if "CPU family" in fields and "Model" in fields:
        name += f" (family {fields['CPU family']}, model {fields['Model']})"
    return name


def gemm_gflops(seconds: float = 1.0, size: int = 512) -> float:
    """Measured fp32 matmul speed, GFLOP/s, of ``[size, size] @ [size, size]`` for about ``seconds`` on the threads in use.

    A one-second calibration printed beside stage times, so runs on different machines compare.
    """
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(size, size, generator=generator), torch.randn(size, size, generator=generator)
    torch.mm(a, b)  # warm-up: thread pool and kernels
    runs, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        torch.mm(a, b)
        runs += 1
    return 2 * size**3 * runs / elapsed / 1e9


def describe_machine(calibration_seconds: float = 1.0) -> dict[str, object]:
    """The CPU (:func:`cpu_model`), usable cores, bf16 support and a GEMM calibration (:func:`gemm_gflops`) on the threads set now."""
    return {
        "cpu_model": cpu_model(),
        "cores": usable_cores(),
        "avx512_bf16": bool(torch.cpu._is_avx512_bf16_supported()),
        "amx": bool(torch.cpu._is_amx_tile_supported()),
        "gemm_threads": torch.get_num_threads(),
        "gemm_gflops": round(gemm_gflops(calibration_seconds), 2),
    }
