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


def configure_cpu_threads() -> int:
    """Leave the cores other processes are using: intra-op threads = free cores (at least 1); returns the count.

    OpenMP workers wait for each other at every op; when other processes hold the cores
    a 2-thread small-model step measured ~25× slower than a 1-thread one here. Left alone
    when ``OMP_NUM_THREADS`` is set.
    """
    if "OMP_NUM_THREADS" not in os.environ:
        free = (os.cpu_count() or 1) - other_runnable_tasks()
        if free < torch.get_num_threads():
            torch.set_num_threads(max(1, free))
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
