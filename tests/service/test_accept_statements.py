"""The SQL an acceptance sends: a fixed number of statements per call, whatever the number
of records in it, and one look-up per kind (the records a bulk names, its signers' keys
with their granted types), each a round trip a single POST pays in full."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from ledger.core.view import commit
from ledger.examples import CR_TANK
from ledger.service import LedgerService
from ledger.store import Store
from tests.service.conftest import (
    PRODUCER_KEYS,
    Examples,
    accept_in_order,
    bulk,
    submission_json,
)

_NAMED_RECORDS = re.compile(r"FROM records\s+WHERE records\.record_id IN", re.S)


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)


def carbon_records(examples: Examples, label: str, count: int) -> bytes:
    """A bulk of ``count`` copies of the example carbon record under new ids."""
    template = examples[CR_TANK].record
    items = []
    for i in range(count):
        record = copy.deepcopy(template)
        record["id"] = f"{CR_TANK}-{label}-{i}"
        items.append(submission_json(commit(record), PRODUCER_KEYS[record["producer"]]))
    return bulk(*items)


def test_one_look_up_per_kind_and_no_statement_per_record(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    accept_in_order(service, examples.all())
    service.accept_bulk(carbon_records(examples, "warm", 1))
    with statements(store) as one:
        service.accept_bulk(carbon_records(examples, "one", 1))
    with statements(store) as three:
        service.accept_bulk(carbon_records(examples, "three", 3))

    assert len(three) == len(one), "\n".join(three)
    named = [
        s
        for s in three
        if _NAMED_RECORDS.search(s) and "records.digest_hex" in s and "full_view" not in s
    ]
    assert len(named) == 1, named  # receipts of replays and link targets: one query
    keys = [s for s in three if "producer_key" in s]
    assert len(keys) == 1, keys  # the signers' keys and their granted types: one query
