"""Worker processes for ``carbon-verify --jobs N`` (docs/VERIFY.md §3).

The records' checks are independent once the chain facts are proven: the parent proves
them all (every chain read is made there, once), then forks N workers that inherit the
parsed bundle and the proven facts and each check a slice of the records. Each worker
returns its slice's checks; the parent puts them together in record order, so the report
is the one a single process writes, byte for byte.

Forking is what makes this cheap (nothing is pickled on the way in); where the platform
cannot fork, or for a single slice, :func:`map_slices` declines and the caller runs alone.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["map_slices"]

T = TypeVar("T")

#: Slices per worker: enough to balance uneven records and move a progress bar.
SLICES_PER_JOB = 8

_task: Callable[[int, int], Any] | None = None


def _run_slice(bounds: tuple[int, int]) -> Any:
    if _task is None:
        raise RuntimeError("a worker runs only inside map_slices")
    return _task(*bounds)


def map_slices(
    task: Callable[[int, int], T],
    total: int,
    *,
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[T] | None:
    """``task(start, stop)`` over ``range(total)`` cut in slices, in ``jobs`` forked
    processes; the slices' results in order. None when it cannot run in processes here
    (one job, fewer than two records, no ``fork`` on this platform)."""
    global _task
    if jobs < 2 or total < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    size = max(1, -(-total // (jobs * SLICES_PER_JOB)))
    bounds = [(start, min(start + size, total)) for start in range(0, total, size)]
    _task = task
    out: list[T] = []
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(bounds))) as pool:
            for start_stop, part in zip(bounds, pool.imap(_run_slice, bounds), strict=True):
                out.append(part)
                if progress is not None:
                    progress(start_stop[1], total)
    finally:
        _task = None
    return out
