"""Principals, API keys and idempotency keys in the store, on SQLite and PostgreSQL alike
(ledger/store/access.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.core.clock import ManualClock
from ledger.core.errors import ConflictError, MalformedError
from ledger.store import Store
from ledger.store.access import (
    IdempotencyKeyReusedError,
    StoredResponse,
    add_principal,
    authenticate,
    claim_idempotency_key,
    complete_idempotency_key,
    issue_api_key,
    release_idempotency_key,
    revoke_api_key,
)
from tests.store.conftest import T0, backend, clock, store, store_url

__all__ = ["backend", "clock", "store", "store_url"]


def _principal(store: Store, name: str = "auditor-1") -> None:
    with store.transaction() as session:
        add_principal(session, name, role="auditor", grants=["*"], created_at=T0)


def test_a_key_authenticates_until_revoked_and_only_with_its_secret(store: Store) -> None:
    _principal(store)
    with store.transaction() as session:
        issued = issue_api_key(session, "auditor-1", created_at=T0)
    token = issued.token
    assert token.startswith(f"clk_{issued.key_id}_")
    with store.transaction(readonly=True) as session:
        found = authenticate(session, token)
        assert found is not None and found.name == "auditor-1"
        assert authenticate(session, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert authenticate(session, "clk_" + "0" * 16 + "_" + token[21:]) is None
        assert authenticate(session, "not a key") is None
        assert authenticate(session, "clk_" + token[4:20] + "_\u00e9") is None
    with store.transaction() as session:
        stored = session.execute(text("SELECT secret_sha256_hex FROM api_keys")).scalar_one()
        assert token.split("_", 2)[2] not in stored  # only the hash is stored
        revoke_api_key(session, issued.key_id, at=T0)
    with store.transaction(readonly=True) as session:
        assert authenticate(session, token) is None


def test_principals_are_unique_and_well_formed(store: Store) -> None:
    _principal(store)
    with pytest.raises(ConflictError):
        _principal(store)
    with pytest.raises(MalformedError, match="producer"), store.transaction() as session:
        add_principal(session, "p", role="producer", created_at=T0)
    with pytest.raises(MalformedError, match="role"), store.transaction() as session:
        add_principal(session, "q", role="root", created_at=T0)


def test_idempotency_claim_complete_replay_and_reuse(store: Store, clock: ManualClock) -> None:
    _principal(store)

    def claim(fingerprint: str) -> StoredResponse | None:
        with store.transaction() as session:
            return claim_idempotency_key(
                session,
                principal="auditor-1",
                key="k",
                request_sha256_hex=fingerprint,
                now=clock(),
                stale_after_s=60,
            )

    assert claim("aa" * 32) is None
    with pytest.raises(ConflictError, match="still being processed"):
        claim("aa" * 32)
    with pytest.raises(IdempotencyKeyReusedError):
        claim("bb" * 32)
    with store.transaction() as session:
        complete_idempotency_key(session, principal="auditor-1", key="k", status=201, body=b"{}")
    stored = claim("aa" * 32)
    assert stored is not None and (stored.status, stored.body) == (201, b"{}")


def test_a_released_or_stale_claim_can_be_taken_again(store: Store, clock: ManualClock) -> None:
    _principal(store)
    for key in ("released", "stale"):
        with store.transaction() as session:
            claim_idempotency_key(
                session,
                principal="auditor-1",
                key=key,
                request_sha256_hex="cc" * 32,
                now=clock(),
            )
    with store.transaction() as session:
        release_idempotency_key(session, principal="auditor-1", key="released")
        assert (
            claim_idempotency_key(
                session,
                principal="auditor-1",
                key="released",
                request_sha256_hex="dd" * 32,
                now=clock(),
            )
            is None
        )
    clock.advance(61)
    with store.transaction() as session:
        assert (
            claim_idempotency_key(
                session,
                principal="auditor-1",
                key="stale",
                request_sha256_hex="cc" * 32,
                now=clock(),
            )
            is None
        )
