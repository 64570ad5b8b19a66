"""``/readyz`` inside its budget, whatever the store or the chain does (docs/API.md §6).

A node that accepts the connection and never answers (a stopped process, a full queue)
used to hold ``/readyz`` for as long as the chain client's timeouts and retries allowed,
long past any orchestrator's probe timeout. Here each check (store, chain + deployment) runs
in a worker thread; the request waits at most ``budget_s`` for them. A check still
running after that is reported as not answering, counted as a chain error, and left to
finish in its thread: while it runs, no second check of its kind is started, so a hung
node costs one thread, not one per probe. A verdict is reused for ``cache_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from ledger.core.errors import LedgerError

__all__ = ["ReadinessChecks"]


class ReadinessChecks:
    def __init__(
        self,
        *,
        store_check: Callable[[], None],
        chain_check: Callable[[], tuple[str, str]],
        budget_s: float,
        cache_s: float,
        on_chain_error: Callable[[], None] = lambda: None,
    ) -> None:
        self._store_check = store_check
        self._chain_check = chain_check
        self.budget_s = budget_s
        self.cache_s = cache_s
        self._on_chain_error = on_chain_error
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="readiness")
        self._lock = threading.Lock()
        self._store: Future[None] | None = None
        self._chain: Future[tuple[str, str]] | None = None
        self._cached: tuple[float, dict[str, str]] | None = None

    def verdict(self) -> dict[str, str]:
        """``{"store", "chain", "deployment"}`` → ``ok`` or the reason."""
        now = time.monotonic()
        with self._lock:
            if self._cached is not None and now - self._cached[0] < self.cache_s:
                return self._cached[1]
            if self._store is None:
                self._store = self._pool.submit(self._store_check)
            if self._chain is None:
                self._chain = self._pool.submit(self._chain_check)
            store, chain = self._store, self._chain
        pending: list[Future[object]] = [store, chain]  # type: ignore[list-item]
        wait(pending, timeout=self.budget_s)
        checks: dict[str, str] = {}
        if store.done():
            error = store.exception()
            checks["store"] = "ok" if error is None else _reason(error)
        else:
            checks["store"] = f"the store did not answer within {self.budget_s:g} s"
        if chain.done():
            error = chain.exception()
            if error is None:
                checks["chain"], checks["deployment"] = chain.result()
            else:
                checks["chain"], checks["deployment"] = _reason(error), "not checked"
        else:
            checks["chain"] = f"the chain did not answer within {self.budget_s:g} s"
            checks["deployment"] = "not checked"
        if checks["chain"] not in ("ok", "no chain configured"):
            self._on_chain_error()
        with self._lock:
            if store.done():
                self._store = None
            if chain.done():
                self._chain = None
            self._cached = (time.monotonic(), checks)
        return checks

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _reason(error: BaseException) -> str:
    if isinstance(error, LedgerError):
        return error.message
    return f"{type(error).__name__}: the check failed"
