"""The SQLite writers' gate (ledger/store/writegate.py): one holder across processes and
threads, re-entrant on one thread, a turn not given within the timeout is
``UnavailableError``, and a killed holder's turn is given back by the kernel."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pytest

from ledger.core.errors import UnavailableError
from ledger.store import Store, sqlite_url
from ledger.store.writegate import WriteGate


def _hold(database: str, held: object, release: object) -> None:
    gate = WriteGate(Path(database), timeout_s=30)
    with gate.held():
        held.set()  # type: ignore[attr-defined]
        release.wait(60)  # type: ignore[attr-defined]


def test_another_process_holding_the_gate_keeps_a_writer_out_until_it_lets_go(
    tmp_path: Path,
) -> None:
    database = tmp_path / "ledger.sqlite3"
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(database), held, release))
    holder.start()
    try:
        assert held.wait(120)
        gate = WriteGate(database, timeout_s=0.2)
        with pytest.raises(UnavailableError, match="no turn to write"), gate.held():
            pass
        release.set()
        holder.join(60)
        gate.timeout_s = 30
        with gate.held():
            pass
    finally:
        release.set()
        holder.join(60)


def test_a_killed_holder_gives_its_turn_back(tmp_path: Path) -> None:
    database = tmp_path / "ledger.sqlite3"
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(database), held, release))
    holder.start()
    assert held.wait(120)
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(60)
    with WriteGate(database, timeout_s=30).held():
        pass


def test_threads_take_turns_and_one_thread_may_nest(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "ledger.sqlite3", timeout_s=0.2)
    with gate.held(), gate.held():  # nested on one thread: no wait on itself
        outcome: list[BaseException] = []

        def other() -> None:
            try:
                with gate.held():
                    pass
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], UnavailableError)
    with gate.held():  # let go by both levels
        pass


def test_a_store_on_a_file_writes_through_its_gate(tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path))
    try:
        assert store.write_gate is not None
        assert store.write_gate.path == tmp_path / "ledger.sqlite3-writer"
        with store.transaction():
            assert store.write_gate._depth == 1
        with store.transaction(readonly=True):
            assert store.write_gate._depth == 0
        assert (store.write_gate.path.stat().st_mode & 0o777) == 0o600
    finally:
        store.close()
