"""Checks 5 and 8: whether a record's signature counts, and whether the record still stands
(docs/VERIFY.md §4, docs/CONTRACTS.md §3-§4).

Check 5. A signature counts when the TrustRegistry holds its key for the record's
producer, the key was valid at the record's ``issued_at`` (which the producer chose) **and**
unrevoked when the record was anchored (the block timestamp of its batch, which no one
chooses: a record back-dated before a revocation but anchored after it fails), and the key
was granted the record's type at that time. A registry of interface version 1 keeps no
record types: the check then warns that this cannot be established.

Check 8. A record revoked on-chain fails; one superseded (recorded on-chain by the
anchorer, or evident from a successor in the bundle) warns, naming its successor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ledger.core.canonical import format_timestamp
from ledger.core.errors import LedgerError
from ledger.core.signature import verify_signature
from ledger.core.types import fields
from verifier.chain import ChainFacts
from verifier.model import Status

if TYPE_CHECKING:
    from verifier.checks import Entry

__all__ = ["check_signer", "check_standing"]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def chain_seconds(moment: datetime) -> int:
    """A record's time as the contracts' uint64 time: whole seconds since
    1970-01-01T00:00:00Z, the fraction dropped (docs/VERIFY.md §4, check 5)."""
    return (moment - _EPOCH) // timedelta(seconds=1)


def _when(timestamp: int) -> str:
    return format_timestamp(datetime.fromtimestamp(timestamp, UTC))


def check_signer(reader: ChainFacts, entry: Entry) -> tuple[Status, str]:
    """Check 5 for one record."""
    sig = entry.item.signature
    kid = f"{sig.key_id[:16]}…"
    key_id = bytes.fromhex(sig.key_id)
    key = reader.key(key_id)
    where = f"the TrustRegistry at {reader.trust_address}"
    if key is None:
        return Status.FAIL, f"key {kid} is not registered in {where}"
    try:
        verify_signature(key.public_key, entry.item.digest, sig)
    except LedgerError as exc:
        return Status.FAIL, f"{exc.message}: look at {entry.subject}.signature"
    producer, issued = entry.raw.get("producer"), entry.raw.get("issued_at")
    record_type = entry.record_type
    if not isinstance(producer, str) or not isinstance(issued, str) or record_type is None:
        return Status.FAIL, "producer, type or issued_at is not disclosed: the key cannot be bound"
    if hashlib.sha256(producer.encode("utf-8")).digest() != key.producer_id:
        return Status.FAIL, f"key {kid} is registered to another producer than {producer}"
    try:
        at = chain_seconds(fields.timestamp(issued, "issued_at"))
    except LedgerError as exc:
        return Status.FAIL, exc.message
    if not key.is_valid_at(at):
        return Status.FAIL, (
            f"key {kid} was not valid at issued_at {issued} (window "
            f"{key.valid_from}..{key.valid_until}, revoked at {key.revoked_at or 'never'})"
        )
    batch = reader.batch(entry.item.batch_seq)
    if batch is None:
        return Status.FAIL, (
            f"batch {entry.item.batch_seq} is not on this chain, so the anchor time the key "
            "is judged at is unknown (check 7)"
        )
    anchored = f"anchored {_when(batch.timestamp)} (block {batch.block_number})"
    if key.revoked_at != 0 and batch.timestamp >= key.revoked_at:
        return Status.FAIL, (
            f"{anchored}, after key {kid} was revoked (effective {_when(key.revoked_at)}): "
            "a signature counts only if its key was unrevoked when the record was anchored, "
            "whatever issued_at says"
        )
    grant = reader.type_grant(key_id, record_type)
    signed = f"Ed25519 by {producer}, key {kid} valid at {issued} and when {anchored}"
    if grant is None:
        return Status.WARN, (
            f"{signed}; the TrustRegistry is interface version 1 and records no record types, "
            f"so whether the key may sign {record_type} records cannot be established"
        )
    if not grant.covers(batch.timestamp):
        if grant.granted_at == 0:
            held = "was never granted it"
        elif batch.timestamp < grant.granted_at:
            held = f"was granted it only from {_when(grant.granted_at)}"
        else:
            held = f"had it withdrawn at {_when(grant.withdrawn_at)}"
        return Status.FAIL, (
            f"key {kid} may not sign {record_type} records: the record was {anchored} and the "
            f"key {held} (TrustRegistry getRecordTypeGrant)"
        )
    return Status.PASS, f"{signed}, granted {record_type}"


def check_standing(
    reader: ChainFacts, entry: Entry, successors: Mapping[str, list[str]], ids: Mapping[bytes, str]
) -> tuple[Status, str]:
    """Check 8 for one record. ``successors``: digest hex -> records of the bundle that
    supersede it; ``ids``: digest -> record id of the bundle's records."""
    revoked = reader.revocation(entry.item.digest)
    if revoked is not None:
        return Status.FAIL, (
            f"revoked on-chain at block {revoked.block_number} (reason code "
            f"{revoked.reason_code}): do not rely on this record"
        )
    onchain = reader.supersession(entry.item.digest)
    if onchain is not None:
        successor = onchain.successor.hex()
        known = ids.get(onchain.successor)
        named = f" ({known}, in this bundle)" if known else " (not in this bundle: ask for it)"
        return Status.WARN, (
            f"not revoked, but superseded on-chain by {successor}{named}, anchored in batch "
            f"{onchain.successor_seq}, recorded at block {onchain.block_number}"
        )
    later = successors.get(entry.item.digest.hex())
    if later:
        return Status.WARN, f"not revoked, but superseded by {', '.join(later)}"
    return Status.PASS, "not revoked, not superseded"
