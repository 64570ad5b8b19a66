"""Producer keys, revocations, attestations and alerts: the smaller tables."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.core.errors import ConflictError, MalformedError
from ledger.store import ConstraintError, Store
from ledger.store.alerts import open_alerts, raise_alert, resolve_alerts
from ledger.store.chainfacts import (
    add_attestation,
    attestations_of,
    due_status_changes,
    find_revocation,
    mark_status_mined,
    mark_status_sending,
    request_revocation,
)
from ledger.store.producers import (
    add_producer_key,
    get_producer_key,
    is_key_valid_at,
    key_id_of,
    keys_of,
    revoke_producer_key,
)
from tests.store.conftest import PRODUCER, PUBLIC_KEY_HEX, T0, digest_of


def test_producer_keys_have_windows_and_revocation(store: Store, key_id: str) -> None:
    assert key_id == key_id_of(PUBLIC_KEY_HEX)
    second_hex = digest_of("second key")
    with store.transaction() as session:
        add_producer_key(
            session,
            producer=PRODUCER,
            public_key_hex=second_hex,
            valid_from=T0 + timedelta(days=30),
            valid_until=T0 + timedelta(days=60),
            record_types=("carbon-record",),
        )
        revoke_producer_key(session, key_id, at=T0 + timedelta(days=40))
    with store.transaction(readonly=True) as session:
        first, second = keys_of(session, PRODUCER)
        assert first.key_id == key_id
        assert is_key_valid_at(first, T0 + timedelta(days=39))
        assert not is_key_valid_at(first, T0 + timedelta(days=40))
        assert not is_key_valid_at(second, T0 + timedelta(days=29))
        assert is_key_valid_at(second, T0 + timedelta(days=59))
        assert not is_key_valid_at(second, T0 + timedelta(days=60))
    with pytest.raises(ConflictError), store.transaction() as session:
        revoke_producer_key(session, key_id, at=T0 + timedelta(days=41))
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        add_producer_key(
            session, producer=PRODUCER, public_key_hex=PUBLIC_KEY_HEX, valid_from=T0,
            record_types=(),
        )  # fmt: skip
    # Both the key id and the public key repeat; which one the database reports first differs.
    assert raised.value.constraint in {"pk_producer_keys", "uq_producer_keys_public_key_hex"}
    with store.transaction(readonly=True) as session:
        assert get_producer_key(session, key_id).revoked_at == T0 + timedelta(days=40)


def test_key_id_needs_32_bytes_of_lowercase_hex() -> None:
    with pytest.raises(MalformedError):
        key_id_of("AB" * 32)
    with pytest.raises(MalformedError):
        key_id_of("ab" * 31)


def test_revocation_once_per_digest(store: Store) -> None:
    digest = digest_of("revoked record")
    with store.transaction() as session:
        request_revocation(
            session,
            digest_hex=digest,
            reason_code=2,
            reason_digest_hex=digest_of("reason"),
            requested_at=T0,
        )
    with pytest.raises(ConstraintError) as raised, store.transaction() as session:
        request_revocation(
            session,
            digest_hex=digest,
            reason_code=3,
            reason_digest_hex=digest_of("reason"),
            requested_at=T0,
        )
    assert raised.value.constraint == "uq_revocations_digest_hex"
    with store.transaction() as session:
        (due,) = due_status_changes(session, now=T0, limit=10)
        assert (due.purpose, due.reason_code, due.digest_hex) == ("revoke", 2, digest)
        mark_status_sending(session, "revoke", due.id)
        assert due_status_changes(session, now=T0, limit=10) == []
        mark_status_mined(
            session, "revoke", due.id, tx_hash="0x" + "dd" * 32, block_number=4,
            block_hash="0x" + "ab" * 32, at=T0,
        )  # fmt: skip
        row = find_revocation(session, digest)
        assert row is not None and (row.state, row.block_number, row.attempts) == ("mined", 4, 1)


def test_attestations_and_alerts(store: Store) -> None:
    digest = digest_of("attested")
    with store.transaction() as session:
        add_attestation(
            session,
            digest_hex=digest,
            attester="0x" + "12" * 20,
            report_digest_hex=digest_of("report"),
            verdict="verified",
            observed_at=T0,
            tx_hash="0x" + "ee" * 32,
            block_number=5,
        )
        raise_alert(session, kind="anchor-late", message="batch 3 not anchored", at=T0)
        raise_alert(session, kind="disk", message="low space", at=T0)
    with store.transaction() as session:
        assert [a.verdict for a in attestations_of(session, digest)] == ["verified"]
        assert resolve_alerts(session, "anchor-late", at=T0 + timedelta(minutes=1)) == 1
        assert [a.kind for a in open_alerts(session)] == ["disk"]
