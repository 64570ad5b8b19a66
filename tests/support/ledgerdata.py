"""Records through the real accept path, for the anchorer, fault and crash suites.

A producer (seeded Ed25519 key, registered in the store) signs submissions of the example
rating rule with a fresh id each (the rule has no refs, so any number of them can be
accepted in any order); ``LedgerService`` stores them as pending and returns receipts.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.canonical import canonicalize
from ledger.core.receipt import Receipt, verify_receipt
from ledger.core.signature import private_key_from_seed, public_key_bytes, sign_digest
from ledger.core.view import commit
from ledger.crashpoints import NO_CRASH, CrashPoints
from ledger.examples import example_records
from ledger.service import SUBMISSION_FORMAT, LedgerService
from ledger.store import Store
from ledger.store.models import Producer
from ledger.store.producers import add_producer, add_producer_key

PRODUCER = "urn:carbonledger:producer:reference-data-desk"
TEMPLATE_ID = "urn:carbonledger:rating-rule:low-carbon-credit-v1"
KEYS_FROM = datetime(2025, 1, 1, tzinfo=UTC)
MAX_MERGE_DELAY_S = 600


def seeded_key(label: str) -> Ed25519PrivateKey:
    return private_key_from_seed(hashlib.sha256(f"anchorer test key {label}".encode()).digest())


SERVICE_KEY = seeded_key("service")
PRODUCER_KEY = seeded_key("producer")


def register_producer(store: Store) -> None:
    """Registers the producer and its key once (a second call is a no-op)."""
    with store.transaction() as session:
        if session.get(Producer, PRODUCER) is not None:
            return
        add_producer(session, PRODUCER, created_at=KEYS_FROM)
        add_producer_key(
            session,
            producer=PRODUCER,
            public_key_hex=public_key_bytes(PRODUCER_KEY).hex(),
            valid_from=KEYS_FROM,
            record_types=("rating-rule",),
        )


@functools.cache
def example_types() -> dict[str, tuple[str, ...]]:
    """Producer -> the record types it signs among the examples (what its key is granted).

    Built once per process: the examples are fixed, and building them commits every record.
    """
    out: dict[str, set[str]] = {}
    for record in example_records().values():
        out.setdefault(str(record["producer"]), set()).add(str(record["type"]))
    return {producer: tuple(sorted(types)) for producer, types in out.items()}


def service(
    store: Store,
    clock: Callable[[], datetime],
    *,
    crash_points: CrashPoints = NO_CRASH,
    max_merge_delay_s: int = MAX_MERGE_DELAY_S,
) -> LedgerService:
    register_producer(store)
    return LedgerService(
        store=store,
        service_key=SERVICE_KEY,
        clock=clock,
        max_merge_delay_s=max_merge_delay_s,
        crash_points=crash_points,
    )


_TEMPLATE: dict[str, object] | None = None


def submission(
    record_id: str, *, seed: str = "", supersedes: tuple[str, str] | None = None
) -> bytes:
    """A signed submission of a record with id ``record_id``. The salts are derived from
    ``seed`` + id, so the same call returns the same bytes (a client retrying).
    ``supersedes`` = (record id, digest) adds a ``supersedes`` link (a correction)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        _TEMPLATE = example_records()[TEMPLATE_ID]
    record = copy.deepcopy(_TEMPLATE)
    record["id"] = record_id
    if supersedes is not None:
        old_id, old_digest = supersedes
        link = {"rel": "supersedes", "id": old_id, "digest": old_digest, "reason": "correction"}
        record["refs"] = [*record.get("refs", []), link]
    counter = [0]

    def salts(n: int) -> bytes:
        counter[0] += 1
        return hashlib.sha256(f"{seed}|{record_id}|{counter[0]}".encode()).digest()[:n]

    commitment = commit(record, salt_source=salts)
    signature = sign_digest(PRODUCER_KEY, commitment.digest)
    return canonicalize(
        {
            "format": SUBMISSION_FORMAT,
            "view": commitment.to_json(),
            "signature": signature.to_json(),
        }
    )


def record_id(prefix: str, n: int) -> str:
    return f"{TEMPLATE_ID}-{prefix}-{n:06d}"


def check_receipt(receipt: Receipt) -> None:
    verify_receipt(receipt, public_key_bytes(SERVICE_KEY))
