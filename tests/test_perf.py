"""Precision selection and peak-FLOP/s estimates in :mod:`spokenlm.perf`."""

import pytest
import torch

from spokenlm import perf

CPU = torch.device("cpu")


def test_explicit_precisions_are_honoured():
    assert perf.uses_bf16("bf16", CPU)
    assert not perf.uses_bf16("fp32", CPU)


@pytest.mark.parametrize("fast", [True, False])
def test_auto_follows_the_cpu_isa(monkeypatch, fast):
    monkeypatch.setattr(perf, "cpu_has_fast_bf16", lambda: fast)
    assert perf.uses_bf16("auto", CPU) is fast


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="fp16"):
        perf.uses_bf16("fp16", CPU)


def test_autocast_runs_matmuls_in_bf16_only_when_asked():
    x = torch.randn(4, 8)
    with perf.autocast("bf16", CPU):
        assert (x @ x.T).dtype == torch.bfloat16
    with perf.autocast("fp32", CPU):
        assert (x @ x.T).dtype == torch.float32


def test_peak_flops_env_override(monkeypatch):
    monkeypatch.setenv(perf.PEAK_FLOPS_ENV, "1.5e11")
    assert perf.peak_flops(CPU) == 1.5e11
    assert perf.peak_flops(CPU, torch.bfloat16) == 1.5e11


def test_bf16_peak_is_at_least_fp32_peak(monkeypatch):
    monkeypatch.delenv(perf.PEAK_FLOPS_ENV, raising=False)
    assert perf.cpu_flops_per_cycle(torch.bfloat16) >= perf.cpu_flops_per_cycle(torch.float32) >= 32


def test_threads_follow_the_cores_other_processes_use_now(monkeypatch):
    import os
    import subprocess
    import sys
    import time

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = os.cpu_count() or 1
    before = torch.get_num_threads()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.5)
        assert perf.other_runnable_tasks() >= cores - 1
        torch.set_num_threads(cores)
        assert perf.configure_cpu_threads() == 1
    finally:
        for process in busy:
            process.kill()
            process.wait()
    # the 1-minute load average is still high now; the instant count is not
    torch.set_num_threads(cores)
    assert perf.configure_cpu_threads() >= cores - 1
    torch.set_num_threads(before)
