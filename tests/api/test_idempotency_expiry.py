"""Idempotency-Key retention (docs/API.md §3.1): a replay within
the window is byte-identical, an expired key is a fresh request, and expired rows are
purged a bounded number at a time. Store tests run on SQLite and PostgreSQL alike."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.engine import make_url

from api.limits import ApiLimits
from ledger.client import submission_bytes
from ledger.core.errors import MalformedError
from ledger.core.view import commit
from ledger.examples import CR_TANK
from ledger.store import Store
from ledger.store.access import (
    DEFAULT_IDEMPOTENCY_RETENTION_S,
    IdempotencyKey,
    StoredResponse,
    add_principal,
    claim_idempotency_key,
    complete_idempotency_key,
    purge_idempotency_keys,
)
from ledger.store.migrate import alembic_config
from tests.api.world import JSON, PLANT, Template, World, open_world, producer_key
from tests.store.conftest import T0, backend, clock, store, store_url

__all__ = ["backend", "clock", "store", "store_url"]

DAY_S = 24 * 3600


def _body(world: World, rid_suffix: str) -> bytes:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-{rid_suffix}"
    return submission_bytes(commit(record), producer_key(PLANT))


def _post(world: World, body: bytes, key: str) -> httpx.Response:
    headers = {**world.headers("plant-mes"), **JSON, "Idempotency-Key": key}
    return world.http.post("/v1/records", content=body, headers=headers)


def _keys(world: World) -> int:
    return world.store.run(
        lambda s: s.scalar(select(func.count()).select_from(IdempotencyKey)), readonly=True
    )


def test_the_documented_default_is_24_hours() -> None:
    assert DEFAULT_IDEMPOTENCY_RETENTION_S == DAY_S
    assert ApiLimits().idempotency_retention_s == DAY_S


def test_a_replay_just_inside_the_window_is_byte_identical(world: World) -> None:
    body = _body(world, "inside")
    first = _post(world, body, "k-inside")
    world.clock.advance(DAY_S - 1)
    again = _post(world, body, "k-inside")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"


def test_after_expiry_the_same_key_is_a_fresh_request(world: World) -> None:
    other = _body(world, "b")
    assert _post(world, _body(world, "a"), "k-expiring").status_code == 201
    # Inside the window another body under this key is refused ...
    assert _post(world, other, "k-expiring").status_code == 422
    world.clock.advance(DAY_S)
    # ... after it the key is free: the other body is accepted as a new request.
    fresh = _post(world, other, "k-expiring")
    assert fresh.status_code == 201
    assert "idempotent-replayed" not in fresh.headers
    found = world.http.get("/v1/record/status", params={"id": f"{CR_TANK}-b"})
    assert found.status_code == 200
    # The fresh response is the one replayed from now on.
    again = _post(world, other, "k-expiring")
    assert again.content == fresh.content and again.headers["idempotent-replayed"] == "true"


@pytest.fixture
def purging_world(template: Template, tmp_path: Path) -> Iterator[World]:
    limits = ApiLimits(idempotency_retention_s=3600, idempotency_purge_batch=2)
    w = open_world(template, tmp_path / "data", limits=limits)
    try:
        yield w
    finally:
        w.store.close()


def test_each_submission_purges_a_bounded_number_of_expired_keys(purging_world: World) -> None:
    world = purging_world
    for n in range(3):
        assert _post(world, _body(world, f"p{n}"), f"k-p{n}").status_code == 201
    expired = _keys(world)  # these three and the template's own keys
    assert expired >= 3
    world.clock.advance(3600)
    fresh = 0
    while expired > 0:
        assert _post(world, _body(world, f"q{fresh}"), f"k-q{fresh}").status_code == 201
        fresh += 1
        expired -= min(2, expired)
        # Each request deletes at most two expired keys and adds its own.
        assert _keys(world) == expired + fresh
    # The table drained back to one retention window of keys.
    assert _keys(world) == fresh


def _principal(store: Store) -> None:
    with store.transaction() as session:
        add_principal(session, "svc", role="auditor", grants=["*"], created_at=T0)


def _claim(store: Store, key: str, at_s: float, body_hex: str = "aa" * 32) -> object:
    with store.transaction() as session:
        return claim_idempotency_key(
            session,
            principal="svc",
            key=key,
            request_sha256_hex=body_hex,
            now=T0 + timedelta(seconds=at_s),
            retain_s=100,
        )


def test_purge_deletes_only_expired_keys_oldest_first(store: Store) -> None:
    _principal(store)
    for n in range(6):
        _claim(store, f"k{n}", at_s=n)
        with store.transaction() as session:
            complete_idempotency_key(session, principal="svc", key=f"k{n}", status=201, body=b"x")
    with store.transaction() as session:
        assert purge_idempotency_keys(session, cutoff=T0 + timedelta(seconds=3), limit=3) == 3
    with store.transaction() as session:
        assert purge_idempotency_keys(session, cutoff=T0 + timedelta(seconds=3), limit=3) == 1
        assert purge_idempotency_keys(session, cutoff=T0, limit=0) == 0
    with store.transaction(readonly=True) as session:
        left = sorted(session.scalars(select(IdempotencyKey.key)))
    assert left == ["k4", "k5"]


def test_an_expired_unpurged_key_is_claimed_afresh(store: Store) -> None:
    _principal(store)
    _claim(store, "k", at_s=0)
    with store.transaction() as session:
        complete_idempotency_key(session, principal="svc", key="k", status=201, body=b"first")
    assert _claim(store, "k", at_s=99) == StoredResponse(201, b"first")
    assert _claim(store, "k", at_s=100, body_hex="bb" * 32) is None  # another body: fresh
    with store.transaction(readonly=True) as session:
        row = session.get(IdempotencyKey, ("svc", "k"))
        assert row is not None
        assert (row.state, row.request_sha256_hex, row.response_body) == (
            "in_flight",
            "bb" * 32,
            None,
        )


def test_retention_must_exceed_the_stale_claim_time(store: Store) -> None:
    _principal(store)
    with store.transaction() as session, pytest.raises(MalformedError):
        claim_idempotency_key(
            session,
            principal="svc",
            key="k",
            request_sha256_hex="aa" * 32,
            now=T0,
            stale_after_s=60,
            retain_s=60,
        )


def test_migration_0004_adds_the_claim_time_index_and_downgrades(store_url: str) -> None:
    database = make_url(store_url).database
    if make_url(store_url).get_backend_name() == "sqlite" and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(store_url)

    def indexes() -> set[str]:
        with engine.connect() as conn:
            return {str(i["name"]) for i in inspect(conn).get_indexes("idempotency_keys")}

    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0004")
            conn.commit()
        assert "ix_idempotency_keys_claimed_at" in indexes()
        with engine.connect() as conn:
            command.downgrade(alembic_config(conn), "0003")
            conn.commit()
        assert "ix_idempotency_keys_claimed_at" not in indexes()
    finally:
        engine.dispose()
