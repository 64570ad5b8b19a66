"""Checks 5 and 8 against the registries' interface version 2 on a real chain (py-evm):
a key counts at the anchor time, not at the producer's ``issued_at``; a key signs only
the record types the registrar granted it; a superseded record exported alone is flagged
from the chain. Bundles here are built around the service (committed, signed and anchored
directly), as an attacker holding a key would build them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from ledger import examples
from ledger.core.bundle import serialize_bundle
from ledger.core.view import commit
from ledger.examples.trail import credit_change
from tests.verifier.conftest import pins_for
from tests.verifier.support import (
    Ledger,
    anchor,
    build_ledger,
    register_producer,
    seeded_salts,
)
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Status, Verification


@pytest.fixture(scope="module")
def ledger(artifacts: dict[str, Any]) -> Iterator[Ledger]:
    chain = MemoryChain()
    try:
        yield build_ledger(chain, artifacts)
    finally:
        chain.close()


def run(ledger: Ledger, data: bytes) -> Verification:
    pins = pins_for(ledger)
    reader = ChainReader(ledger.chain.w3, anchor_registry=pins.anchor_registry)
    return verify_bundle(data, reader=reader, pins=pins)


def check(v: Verification, number: int, subject: str = "items[0]") -> tuple[Status, str]:
    """The one check ``number`` about ``subject`` (a place like "items[0]", or a record id)."""
    found = [c for c in v.checks if c.number == number and subject in (c.subject, c.record_id)]
    assert len(found) == 1, found
    return found[0].status, found[0].reason


def _register(ledger: Ledger, producer: str, types: tuple[str, ...]) -> bytes:
    """A fresh key for ``producer``, granted ``types``; returns its key id."""
    return register_producer(ledger.chain, ledger.contract("TrustRegistry"), producer, types)


def _first_rating(ledger: Ledger, rid: str, producer: str, **kw: Any) -> dict[str, Any]:
    """A first rating (no previous grade) issued by ``producer``."""
    record = credit_change(_digests(ledger), rid=rid, previous_grade=None, previous=None, **kw)
    record["producer"] = producer
    return record


def _anchored_bundle(ledger: Ledger, record: dict[str, Any]) -> bytes:
    ledger.commitments[record["id"]] = commit(record, salt_source=seeded_salts(record["id"]))
    anchor(ledger, [record["id"]])
    return serialize_bundle(ledger.bundle([record["id"]]))


def _digests(ledger: Ledger) -> dict[str, str]:
    return {i: c.digest_hex for i, c in ledger.commitments.items()}


def test_a_back_dated_record_anchored_after_its_keys_revocation_fails(ledger: Ledger) -> None:
    """The key is revoked; a record signed with it afterwards says it was issued months
    earlier. Valid at issued_at, but anchored after the revocation: check 5 FAILs."""
    desk = "urn:carbonledger:producer:compromised-rating-desk"
    kid = _register(ledger, desk, ("credit-change",))
    trust = ledger.contract("TrustRegistry")
    ledger.chain.transact(trust.functions.revokeKey(kid, 0))  # effective now
    record = _first_rating(
        ledger,
        "urn:carbonledger:credit-change:backdated-after-revocation",
        desk,
        issued_at="2026-02-01T00:00:00Z",
    )
    v = run(ledger, _anchored_bundle(ledger, record))
    status, reason = check(v, 5)
    assert status is Status.FAIL and v.exit_code == 1
    assert "after key" in reason and "was revoked" in reason and "whatever issued_at" in reason
    for number in (4, 6, 7):  # everything else about it is genuine
        assert check(v, number)[0] is Status.PASS


def test_reference_data_from_a_key_not_granted_the_type_fails(ledger: Ledger) -> None:
    """A conversion service's key, granted factor-substitution only, publishes a factor set
    of its own: registered, signed, anchored, and refused by check 5."""
    rogue = "urn:carbonledger:producer:rogue-conversion-service"
    _register(ledger, rogue, ("factor-substitution",))
    record = copy.deepcopy(ledger.commitments[examples.FS_DESNZ_2025].record)
    record["id"] = "urn:carbonledger:factor-set:desnz-2025-rogue"
    record["subject"] = "desnz-2025-rogue"
    record["producer"] = rogue
    record["body"]["entries"][0]["value"] = "0.10000"
    v = run(ledger, _anchored_bundle(ledger, record))
    status, reason = check(v, 5)
    assert status is Status.FAIL and v.exit_code == 1
    assert "may not sign factor-set records" in reason and "never granted" in reason


def test_a_type_withdrawn_before_the_anchor_fails(ledger: Ledger) -> None:
    desk = "urn:carbonledger:producer:retired-rating-desk"
    kid = _register(ledger, desk, ("credit-change",))
    ledger.chain.advance_time(60)
    trust = ledger.contract("TrustRegistry")
    ledger.chain.transact(trust.functions.withdrawRecordType(kid, "credit-change"))
    record = _first_rating(ledger, "urn:carbonledger:credit-change:after-withdrawal", desk)
    v = run(ledger, _anchored_bundle(ledger, record))
    status, reason = check(v, 5)
    assert status is Status.FAIL and "had it withdrawn" in reason


def test_genuine_records_pass_check_5_naming_the_grant(ledger: Ledger) -> None:
    v = run(ledger, ledger.bundle_bytes([examples.SUB_TANK_UK]))
    status, reason = check(v, 5)
    assert status is Status.PASS and "granted factor-substitution" in reason
    assert v.verdict == "verified"


def test_a_superseded_record_alone_warns_naming_its_successor(ledger: Ledger) -> None:
    """Exported alone, the tank's first footprint carries nothing of its correction: only
    the chain's status (recorded by the anchorer) can tell, and check 8 names the
    successor's digest."""
    alone = ledger.bundle_bytes([examples.CR_TANK])
    before = run(ledger, alone)
    assert check(before, 8) == (Status.PASS, "not revoked, not superseded")
    old, new = ledger.commitments[examples.CR_TANK], ledger.commitments[examples.CR_TANK_REVISED]
    seq = ledger.batch_of[examples.CR_TANK_REVISED]
    registry = ledger.contract("AnchorRegistry")
    ledger.chain.transact(
        registry.functions.markSuperseded(
            old.digest, new.digest, seq, list(ledger.trees[seq].proof(new.digest))
        )
    )
    v = run(ledger, alone)
    status, reason = check(v, 8)
    assert status is Status.WARN and v.verdict == "verified"
    assert f"superseded on-chain by {new.digest_hex}" in reason and "not in this bundle" in reason
    # The correction's own bundle carries the record it corrects, and names it there.
    correction = run(ledger, ledger.bundle_bytes([examples.CR_TANK_REVISED]))
    assert correction.verdict == "verified"
    status, reason = check(correction, 8, examples.CR_TANK)
    assert status is Status.WARN and f"({examples.CR_TANK_REVISED}, in this bundle)" in reason


def test_a_revoked_record_fails_even_when_superseded(ledger: Ledger) -> None:
    record = _first_rating(
        ledger,
        "urn:carbonledger:credit-change:revoked-and-superseded",
        "urn:carbonledger:producer:credit-rating-desk",
    )
    data = _anchored_bundle(ledger, record)
    registry = ledger.contract("AnchorRegistry")
    ledger.chain.transact(
        registry.functions.revoke(ledger.commitments[record["id"]].digest, 3, b"\x00" * 32)
    )
    v = run(ledger, data)
    status, reason = check(v, 8)
    assert status is Status.FAIL and "reason code 3" in reason


def test_issued_at_with_nine_fraction_digits_is_judged_at_its_whole_second(
    ledger: Ledger,
) -> None:
    """docs/RECORDS.md allows up to nine fraction digits in ``issued_at``; check 5 compares
    it with the key's uint64 window as whole seconds since the epoch, the fraction dropped
    (docs/VERIFY.md §4). A key valid from exactly that second signs such a record."""
    desk = "urn:carbonledger:producer:nanosecond-rating-desk"
    _register(ledger, desk, ("credit-change",))
    record = _first_rating(
        ledger,
        "urn:carbonledger:credit-change:nine-fraction-digits",
        desk,
        issued_at="2026-03-31T10:00:00.123456789Z",
    )
    v = run(ledger, _anchored_bundle(ledger, record))
    status, reason = check(v, 5)
    assert status is Status.PASS, reason
    assert check(v, 4)[0] is Status.PASS  # the record itself conforms
