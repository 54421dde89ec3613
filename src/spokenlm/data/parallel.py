"""Process-parallel map for corpus jobs (synthesis, import), falling back to a plain map for one worker."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def worker_map(workers: int, num_tasks: int, ordered: bool = True) -> Iterator[Callable[[Callable, Iterable], Iterator[Any]]]:
    """Yield ``imap(fn, tasks)`` over ``workers`` forked processes (results in task order unless ``ordered=False``).

    With one worker or one task it is the built-in ``map``, so nothing is forked.
    ``fn`` must be a module-level function and its tasks picklable.
    """
    if workers <= 1 or num_tasks <= 1:
        yield map
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        method = pool.imap if ordered else pool.imap_unordered
        yield lambda fn, tasks: method(fn, tasks, chunksize=1)
