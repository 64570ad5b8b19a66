"""One writer at a time on a SQLite database, handed over as soon as it is free.

SQLite lets one transaction write at a time; the others wait in its busy handler, which
sleeps between tries (up to 100 ms a sleep), so under many writers — the threads of an API
worker and several workers — the write lock sits idle while waiters sleep, and waits
pass the busy timeout (503) well before the database is really busy. The gate queues
writers instead: a lock of the process for its threads, then an exclusive ``flock`` on
``<database>-writer`` for the processes, polled every 0.5 to 2 ms. The holder begins its
transaction (``BEGIN IMMEDIATE``, which still guards the data: the gate only orders
who asks first) and commits before it lets go. Waiting longer than the store's busy
timeout is ``UnavailableError``, as a busy database is. The kernel drops a dead
process's ``flock``, so a killed writer never leaves the gate shut.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.core.errors import StorageError, UnavailableError

__all__ = ["WriteGate"]

_FIRST_PAUSE_S = 0.0005
_LONGEST_PAUSE_S = 0.002


class WriteGate:
    def __init__(self, database: Path, *, timeout_s: float) -> None:
        self.path = Path(f"{database}-writer")
        self.timeout_s = timeout_s
        # Re-entrant: a write transaction opened inside another on the same thread (which
        # SQLite would refuse by its own lock) waits on SQLite, not on the gate for ever.
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StorageError(f"cannot open {self.path}: {exc.strerror}") from exc
        return self._fd

    def _busy(self) -> UnavailableError:
        return UnavailableError(f"the store is busy: no turn to write within {self.timeout_s:g} s")

    @contextmanager
    def held(self) -> Iterator[None]:
        deadline = time.monotonic() + self.timeout_s
        if not self._threads.acquire(timeout=self.timeout_s):
            raise self._busy()
        try:
            fd = self._file()
            if self._depth == 0:
                self._lock_file(fd, deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self, fd: int, deadline: float) -> None:
        pause = _FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise self._busy() from None
                time.sleep(pause)
                pause = min(pause * 2, _LONGEST_PAUSE_S)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
