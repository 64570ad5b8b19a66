"""The receipts in an exported bundle are checkable promises (docs/FORMAT.md §5; check 13 of
carbon-verify): signed under the bundle's service key, naming a record of the bundle, and
kept (anchored no later than promised)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.bundle import Bundle, ServiceKey, parse_bundle, serialize_bundle
from ledger.core.canonical import parse_timestamp
from ledger.core.receipt import issue_receipt
from ledger.core.signature import key_id, public_key_bytes
from ledger.examples import SUB_TANK_EU
from tests.api.world import SERVICE_KEY, World
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Check, Pins, Status, Verification


def _bundle(world: World) -> Bundle:
    response = world.http.get(
        "/v1/record/bundle", params={"id": SUB_TANK_EU}, headers=world.headers("eu-regulator")
    )
    assert response.status_code == 200, response.text
    return parse_bundle(response.content, require_canonical=True)


def _verify(world: World, bundle: Bundle, *, service_key_id: str | None = None) -> Verification:
    d = world.template.deployment
    anchor = d.address_of("AnchorRegistry")
    reader = ChainReader(world.template.chain.w3, anchor_registry=anchor)
    pins = Pins(chain_id=d.chain_id, anchor_registry=anchor, service_key_id=service_key_id)
    return verify_bundle(serialize_bundle(bundle), reader=reader, pins=pins)


def _receipt_checks(result: Verification) -> list[Check]:
    return [c for c in result.checks if c.number == 13]


def _resigned(bundle: Bundle, *, delay_s: int, key: Ed25519PrivateKey) -> Bundle:
    """The same bundle with its receipt reissued under ``key`` and another merge delay."""
    (old,) = bundle.receipts or ()
    receipt = issue_receipt(
        record_id=old.record_id,
        digest=bytes.fromhex(old.digest_hex),
        accepted_at=parse_timestamp(old.accepted_at),
        max_merge_delay_s=delay_s,
        service_key=key,
    )
    service = ServiceKey(key_id(key), public_key_bytes(key))
    return dataclasses.replace(bundle, receipts=(receipt,), service=service)


def test_exported_receipts_verify_under_the_pinned_service_key(world: World) -> None:
    bundle = _bundle(world)
    assert bundle.receipts is not None and bundle.service is not None
    assert bundle.service.key_id == key_id(SERVICE_KEY)
    assert [r.record_id for r in bundle.receipts] == [SUB_TANK_EU]
    result = _verify(world, bundle, service_key_id=bundle.service.key_id)
    assert result.verdict == "verified"
    (check,) = _receipt_checks(result)
    # This world's service clock stands at a fixed date while the in-process chain stamps
    # blocks with the real time, so whether the promise looks kept depends on the day the
    # test runs; the signature and the record it names do not.
    assert check.status in (Status.PASS, Status.WARN)
    assert check.reason.startswith("signed by the pinned service key")


def test_a_kept_promise_passes(world: World) -> None:
    ten_years_s = 10 * 365 * 86_400
    bundle = _resigned(_bundle(world), delay_s=ten_years_s, key=SERVICE_KEY)
    (check,) = _receipt_checks(_verify(world, bundle, service_key_id=key_id(SERVICE_KEY)))
    assert check.status is Status.PASS and "promised by" in check.reason


def test_another_pinned_service_key_fails(world: World) -> None:
    result = _verify(world, _bundle(world), service_key_id="ab" * 32)
    (check,) = _receipt_checks(result)
    assert check.status is Status.FAIL and "you pinned" in check.reason
    assert result.verdict != "verified"


def test_a_broken_promise_is_a_warning_naming_both_times(world: World) -> None:
    # Accepted at T, promised by T + 0 s: the anchor came later, so the promise was broken.
    bundle = _resigned(_bundle(world), delay_s=0, key=Ed25519PrivateKey.generate())
    (check,) = _receipt_checks(_verify(world, bundle))
    assert check.status is Status.WARN
    assert "broke its promise" in check.reason and bundle.receipts is not None
    assert bundle.receipts[0].anchor_by in check.reason


def test_a_receipt_for_a_record_not_in_the_bundle_fails(world: World) -> None:
    key = Ed25519PrivateKey.generate()
    bundle = _resigned(_bundle(world), delay_s=10 * 365 * 86_400, key=key)
    assert bundle.receipts is not None
    other = issue_receipt(
        record_id="urn:carbonledger:elsewhere",
        digest=bytes(32),
        accepted_at=parse_timestamp(bundle.receipts[0].accepted_at) - timedelta(days=1),
        max_merge_delay_s=600,
        service_key=key,
    )
    bundle = dataclasses.replace(bundle, receipts=(*bundle.receipts, other))
    checks = _receipt_checks(_verify(world, bundle))
    assert [c.status for c in checks] == [Status.PASS, Status.FAIL]
    assert "not in the bundle" in checks[1].reason
