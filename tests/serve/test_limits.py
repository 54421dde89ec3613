"""Frame budget (token bucket) and session slots."""

from __future__ import annotations

from spokenlm.serve.limits import FrameBudget, Limits, SessionSlots


def test_frame_budget_allows_bursts_then_the_average_rate():
    budget = FrameBudget(rate=50.0, burst=10.0)
    assert all(budget.take(0.0) for _ in range(10))
    assert not budget.take(0.0)
    assert budget.take(0.02)  # one frame's worth refilled after 20 ms
    assert not budget.take(0.02)
    assert sum(budget.take(1.0 + i / 50) for i in range(100)) >= 99  # real time keeps passing


def test_session_slots_count_to_capacity():
    slots = SessionSlots(2)
    assert slots.acquire() and slots.acquire() and not slots.acquire()
    slots.release()
    assert slots.acquire() and slots.open == 2


def test_limits_are_told_to_the_client():
    assert Limits().public()["max_sessions"] == 4
