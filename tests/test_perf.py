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


@pytest.fixture
def threads_restored(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_go_down_under_load_and_come_back_up_when_it_goes(threads_restored):
    load = iter([0, 3, 2, 7, 0])  # runnable tasks besides ours at five job starts, on 4 cores
    counts = [perf.configure_cpu_threads(lambda: next(load), cores=4) for _ in range(5)]
    assert counts == [4, 1, 2, 1, 4]  # never below 1, never above the cores, and back up at once


def test_an_omp_num_threads_setting_is_left_alone(threads_restored, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert perf.configure_cpu_threads(lambda: 0, cores=4) == 1


def test_the_runnable_count_is_read_from_proc_loadavg(monkeypatch):
    import builtins
    import io

    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda path, *a, **k: io.StringIO("0.50 0.40 0.30 3/812 4242\n") if path == "/proc/loadavg" else real_open(path, *a, **k))
    assert perf.other_runnable_tasks(samples=3, interval=0.0) == 2  # the reading thread is not counted


def test_machine_description_names_the_cpu_and_calibrates_gemm():
    machine = perf.describe_machine(calibration_seconds=0.05)
    assert machine["cpu_model"] and machine["cores"] >= 1 and machine["gemm_threads"] == torch.get_num_threads()
    assert isinstance(machine["avx512_bf16"], bool) and isinstance(machine["amx"], bool) and machine["gemm_gflops"] > 0
