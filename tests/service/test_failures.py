"""Failures of the store during acceptance answer with an error and leave nothing
half-written (a full disk or a database error answers "unavailable", never a half-written
record); concurrent submissions of one record store it once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event, text

from ledger.core.errors import ConflictError, UnavailableError
from ledger.core.receipt import Receipt
from ledger.service import LedgerService, receipt_bytes
from ledger.store import Store
from tests.service.conftest import PRODUCER_KEYS, Examples, bulk, dump, submission, submission_json


def _bulk_of(examples: Examples, count: int) -> bytes:
    items = [examples[rid] for rid in examples.order[:count]]
    return bulk(*(submission_json(i, PRODUCER_KEYS[i.record["producer"]]) for i in items))


# SQLITE_FULL is provoked with PRAGMA max_page_count, which only SQLite has; PostgreSQL's
# disk-full (SQLSTATE 53100) takes the store's same "unavailable" mapping.
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_full_disk_is_unavailable_and_stores_nothing(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    assert store.dialect == "sqlite"
    service.accept(submission(examples[examples.order[0]]))
    before = dump(store)

    # sqlite.org/pragma.html#pragma_max_page_count: past the cap, writes fail with
    # SQLITE_FULL, the same error path as a full filesystem. Every connection handed out gets
    # the cap, whichever pooled connection the service's transaction uses.
    def cap(dbapi_connection: Any, *_: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages) + 1}")

    event.listen(store.engine, "checkout", cap)
    try:
        with pytest.raises(UnavailableError, match="full") as raised:
            service.accept_bulk(_bulk_of(examples, 10))
        assert raised.value.retry_after_s is not None
    finally:
        event.remove(store.engine, "checkout", cap)
        store.engine.dispose()  # drop the capped connections
    assert dump(store) == before
    # Once there is room again the same bulk is accepted (its first record as a replay).
    assert len(service.accept_bulk(_bulk_of(examples, 10))) == 10


def _refuse_fourth(store: Store, record_id: str) -> None:
    """A database-level refusal of one row (a trigger), standing in for any constraint."""
    quoted = record_id.replace("'", "''")
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_fourth BEFORE INSERT ON records "
                    f"WHEN NEW.record_id = '{quoted}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_fourth() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.record_id = '{quoted}' THEN RAISE EXCEPTION "
                    "'refused by a test trigger' USING ERRCODE = 'check_violation'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_fourth BEFORE INSERT ON records "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_fourth()"
                )
            )


def test_bulk_of_five_with_a_database_refusal_at_the_fourth_stores_none(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    _refuse_fourth(store, examples.order[3])
    before = dump(store)
    with pytest.raises(ConflictError) as refused:
        service.accept_bulk(_bulk_of(examples, 5))
    # The database's own words stay in the log, never in the error a caller reads.
    assert "refused by a test trigger" not in refused.value.message
    assert dump(store) == before
    # The three before it are accepted on their own: nothing of the failed call lingers.
    assert len(service.accept_bulk(_bulk_of(examples, 3))) == 3


def test_concurrent_submissions_of_one_record_store_it_once(
    service: LedgerService, store: Store, examples: Examples
) -> None:
    data = submission(examples[examples.order[0]])
    start = threading.Barrier(4)
    results: list[Receipt | BaseException] = []

    def submit() -> None:
        start.wait()
        try:
            results.append(service.accept(data))
        except BaseException as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    receipts = [r for r in results if isinstance(r, Receipt)]
    assert len(receipts) == 4, results
    assert len({receipt_bytes(r) for r in receipts}) == 1
    assert len(dump(store)["records"]) == 1
