"""Sessions as rows of one shared LM streaming state, advanced in batches by one thread.

An :class:`LMRows` holds a UnitLM (its own module sharing the weights) inside ``streaming(rows)`` and a thread
that serves every queued :class:`Row` request in one :meth:`UnitLM.step` call: each active row gets its new
model ids (left-padded to the longest, the padding marked not ``valid``), the rows without a request are
outside the exec mask (their state does not move), and a row asked to restart is reset first. So a session's
prefill while its user speaks and another session's reply steps share forward passes. Each request returns
the id its row's ``pick`` chooses from the logits after its last new id. :class:`RowPool` hands out rows and
adds a group (one more copy and thread) when all are taken.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

import torch

from spokenlm.models.unit_lm import UnitLM

Pick = Callable[[torch.Tensor], int]  # logits [V] of one row → the next model id


@dataclass
class _Request:
    row: int
    ids: torch.Tensor  # [n] model ids, n >= 1
    reset: bool
    pick: Pick
    future: Future


class LMRows:
    """``rows`` independent streams through one one-stream UnitLM; :meth:`advance` queues work for one row."""

    def __init__(self, model: UnitLM, rows: int) -> None:
        shared = {id(t): t for t in [*model.parameters(), *model.buffers()]}
        self.model, self.rows = copy.deepcopy(model, memo=shared).eval(), rows
        self.pad = model.vocab.pad_id
        self.queue: deque[_Request] = deque()
        self.ready = threading.Condition()
        self.calls = 0  # batched forward passes so far
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), name="spokenlm-lm-rows", daemon=True).start()
        started.wait()

    def advance(self, row: int, ids: torch.Tensor, pick: Pick, reset: bool = False) -> Future:
        """Feed model ids ``[n]`` to ``row`` (first restarting it when ``reset``) → Future of ``pick(logits [V])``.

        Requests of one row run in the order they were made."""
        future: Future = Future()
        with self.ready:
            self.queue.append(_Request(row, torch.as_tensor(ids, dtype=torch.long).reshape(-1), reset, pick, future))
            self.ready.notify()
        return future

    def _next_batch(self) -> list[_Request]:
        """The oldest request of every row that has one (the others stay queued, in order)."""
        with self.ready:
            while not self.queue:
                self.ready.wait()
            batch, later, seen = [], deque(), set()
            while self.queue:
                request = self.queue.popleft()
                (later if request.row in seen else batch).append(request)
                seen.add(request.row)
            self.queue = later
            return batch

    def _run(self, started: threading.Event) -> None:
        with torch.inference_mode(), self.model.streaming(self.rows):
            started.set()
            while True:
                batch = self._next_batch()
                try:
                    logits = self._forward(batch)
                except Exception as err:  # noqa: BLE001 - handed to the waiting sessions, never kills the thread
                    for request in batch:
                        request.future.set_exception(err)
                    continue
                for request in batch:
                    try:
                        request.future.set_result(request.pick(logits[request.row]))
                    except Exception as err:  # noqa: BLE001 - a failing pick fails its own request only
                        request.future.set_exception(err)

    def _forward(self, batch: list[_Request]) -> torch.Tensor:
        """One step of the rows in ``batch`` → the logits ``[rows, V]`` after each row's last new id."""
        width = max(len(r.ids) for r in batch)
        ids = torch.full((self.rows, 1, width), self.pad, dtype=torch.long)
        valid = torch.zeros(self.rows, width, dtype=torch.bool)
        active = torch.zeros(self.rows, dtype=torch.bool)
        for r in batch:
            ids[r.row, 0, width - len(r.ids) :] = r.ids
            valid[r.row, width - len(r.ids) :] = True
            active[r.row] = True
        resets = torch.tensor([any(r.row == row and r.reset for r in batch) for row in range(self.rows)])
        if bool(resets.any()):
            self.model.reset_streaming(resets)
        every = bool(active.all())
        self.model.set_exec_mask(None if every else active)
        captured: list[torch.Tensor] = []

        def keep(k: int, logits: torch.Tensor) -> torch.Tensor:
            captured.append(logits)
            return logits.argmax(-1)

        self.model.step(ids, keep, valid=None if bool(valid.all()) else valid)
        self.calls += 1
        return captured[0]


class RowPool:
    """Rows of :class:`LMRows` groups of ``rows_per_group``: :meth:`take` a free one, :meth:`give` it back."""

    def __init__(self, model: UnitLM, rows_per_group: int) -> None:
        self.model, self.rows_per_group = model, rows_per_group
        self.groups: list[LMRows] = []
        self.free: list[tuple[LMRows, int]] = []
        self.lock = threading.Lock()

    def take(self) -> tuple[LMRows, int]:
        with self.lock:
            if not self.free:
                group = LMRows(self.model, self.rows_per_group)
                self.groups.append(group)
                self.free = [(group, row) for row in range(self.rows_per_group)]
            return self.free.pop(0)

    def give(self, slot: tuple[LMRows, int]) -> None:
        with self.lock:
            self.free.append(slot)
