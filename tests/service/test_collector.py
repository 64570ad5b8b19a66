"""The cyclic garbage collector is paused while acceptances run and resumed after the last
one ends, as it was found; overlapping acceptances cannot hold it off for ever."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from ledger.core import collector as collector_module
from ledger.core.collector import COLLECT_EVERY, collector_paused
from ledger.core.records import Record
from ledger.examples import FS_DESNZ_2025
from ledger.service import LedgerService
from tests.service.conftest import PRODUCER_KEYS, Examples, bulk, submission, submission_json


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    # Left as found, whatever the test did (a test turns it off on purpose).
    if was:
        gc.enable()
    else:
        gc.disable()


def test_a_single_acceptance_runs_with_the_collector_paused(
    service: LedgerService, examples: Examples
) -> None:
    seen: list[bool] = []

    def authorize(_record: Record) -> None:
        seen.append(gc.isenabled())

    service.accept(submission(examples[FS_DESNZ_2025]), authorize=authorize)
    assert seen == [False]
    assert gc.isenabled()


def test_a_bulk_runs_with_the_collector_paused_and_resumes_after_a_refusal(
    service: LedgerService, examples: Examples
) -> None:
    seen: list[bool] = []

    def authorize(record: Record) -> None:
        seen.append(gc.isenabled())
        raise PermissionError(record.id)

    item = examples[FS_DESNZ_2025]
    body = bulk(submission_json(item, PRODUCER_KEYS[item.record["producer"]]))
    with pytest.raises(PermissionError):
        service.accept_bulk(body, authorize=authorize)
    assert seen == [False]
    assert gc.isenabled()


def test_a_caller_with_the_collector_off_keeps_it_off(
    service: LedgerService, examples: Examples
) -> None:
    gc.disable()
    service.accept(submission(examples[FS_DESNZ_2025]))
    assert not gc.isenabled()


def test_overlapping_pauses_resume_after_the_last() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states: list[bool] = []

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with collector_paused():
        second_in.set()
        first_out.wait(5)
        states.append(gc.isenabled())  # the first ended, this one still runs
    thread.join(5)
    states.append(gc.isenabled())
    assert states == [False, True]


def test_a_pause_that_never_lifts_still_collects(monkeypatch: pytest.MonkeyPatch) -> None:
    collections: list[int] = []
    monkeypatch.setattr(
        collector_module.gc, "collect", lambda generation=2: collections.append(generation) or 0
    )
    with collector_paused():  # always one acceptance running
        for _ in range(COLLECT_EVERY * 2):
            with collector_paused():
                pass
        assert not gc.isenabled()
    assert collections == [1, 1]  # the young generations only
    assert gc.isenabled()
