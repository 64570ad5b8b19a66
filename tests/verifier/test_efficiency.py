"""carbon-verify walks from a carbon-efficiency grade to every terminal-signed reading
(check 10, docs/CALC.md §14) and checks the terminals' signatures against the TrustRegistry's
terminal keys (check 5, docs/VERIFY.md §4): a real anchored ledger on py-evm, the example
plant over one day (two SM2 meters, one Ed25519 gateway), a producer that alters one reading
after the terminal signed it, a terminal the registry does not hold, and a terminal signing
for a metering point it was not granted."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from ledger.core.calc.efficiency import compute_carbon_efficiency
from ledger.core.keys import public_key_of
from ledger.core.records import validate_record
from ledger.core.sm2 import SM2PrivateKey
from ledger.core.view import commit
from ledger.examples import efficiency as ex
from ledger.service.efficiency_report import REPORT_NAMES, attach_report
from tests.verifier.conftest import pins_for
from tests.verifier.support import Ledger, anchor, build_efficiency_ledger, seeded_salts
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Status, Verification


@pytest.fixture(scope="module")
def ledger(artifacts: dict[str, Any]) -> Iterator[Ledger]:
    chain = MemoryChain()
    try:
        yield build_efficiency_ledger(chain, artifacts)
    finally:
        chain.close()


def run(ledger: Ledger, items: list[str]) -> Verification:
    pins = pins_for(ledger)
    reader = ChainReader(
        ledger.chain.w3, anchor_registry=pins.anchor_registry, trust_registry=pins.trust_registry
    )
    return verify_bundle(ledger.bundle_bytes(items), reader=reader, pins=pins)


def test_grade_recomputes_from_every_signed_reading(ledger: Ledger) -> None:
    v = run(ledger, [ex.EVALUATION])
    assert v.exit_code == 0, [c for c in v.checks if c.status is not Status.PASS]
    check = next(c for c in v.checks if c.number == 10 and c.record_id == ex.EVALUATION)
    assert check.status is Status.PASS
    assert "from 72 terminal-signed readings" in check.reason
    assert "grade 2 and level low" in check.reason
    batches = [c for c in v.checks if c.number == 5 and "meter-reading" in (c.record_id or "")]
    assert len(batches) == 3 and {c.status for c in batches} == {Status.PASS}
    reasons = " ".join(c.reason for c in batches)
    for terminal in ex.terminals():
        assert f"signed {public_key_of(terminal.key).scheme} by {terminal.id}" in reasons


def test_reading_altered_after_the_terminal_signed_it(ledger: Ledger) -> None:
    """The producer lowers one hour of grid electricity in its batch, re-signs and anchors
    the batch and an evaluation computed over it: every record signature, proof and figure
    holds, only the terminal's signature over the reading does not."""
    grid = next(
        i
        for i, c in ledger.commitments.items()
        if c.record["type"] == "meter-reading" and c.record["body"]["field"] == "electricity_import"
    )
    forged = copy.deepcopy(ledger.commitments[grid].record)
    forged["id"] = grid + "-forged"
    forged["body"]["readings"][10]["quantity"] = "1.0"
    forged_c = commit(forged, salt_source=seeded_salts(forged["id"]))
    ledger.commitments[forged["id"]] = forged_c
    evaluation = copy.deepcopy(ledger.commitments[ex.EVALUATION].record)
    evaluation["id"] = ex.EVALUATION + "-forged"
    link = {"id": forged["id"], "digest": forged_c.digest_hex}
    for source in evaluation["body"]["sources"]:
        source["readings"] = [link if r["id"] == grid else r for r in source["readings"]]
    evaluation["refs"] = [{**r, **link} if r["id"] == grid else r for r in evaluation["refs"]]
    closure = {i: validate_record(c.record) for i, c in ledger.commitments.items()}
    body = {k: v for k, v in evaluation["body"].items() if k != "result"}
    evaluation["body"] = {**body, **compute_carbon_efficiency(body, closure)}
    ledger.commitments[evaluation["id"]] = commit(
        evaluation, salt_source=seeded_salts(evaluation["id"])
    )
    anchor(ledger, [forged["id"], evaluation["id"]])
    v = run(ledger, [evaluation["id"]])
    assert v.exit_code == 1
    for number in (2, 4, 7):  # digests and proofs all hold
        assert {c.status for c in v.checks if c.number == number} == {Status.PASS}, number
    # The producer's signature over the batch holds; the terminal's over the reading does not.
    signer = next(c for c in v.checks if c.number == 5 and c.record_id == forged["id"])
    assert signer.status is Status.FAIL
    assert "body.readings[10].signature" in signer.reason
    assert f"Ed25519 by {forged['producer']}" in signer.reason
    check = next(c for c in v.checks if c.number == 10 and c.record_id == evaluation["id"])
    assert check.status is Status.FAIL
    assert f"{forged['id']}: body.readings[10].signature" in check.reason


def _anchored_batch(ledger: Ledger, terminal: ex.Terminal, name: str, **options: Any) -> str:
    """A batch of two hours signed by ``terminal`` (as ``options`` change it), committed by
    the edge gateway and anchored: what a producer could anchor past a careless service."""
    digests = {i: c.digest_hex for i, c in ledger.commitments.items()}
    rid = f"urn:carbonledger:meter-reading:{name}"
    start = ex.PERIOD_START + timedelta(days=40)
    hours = [(start + timedelta(hours=h), start + timedelta(hours=h + 1), "5") for h in (0, 1)]
    record = ex.signed_batch(terminal, rid, hours, digests, template=None, **options)
    ledger.commitments[rid] = commit(record, salt_source=seeded_salts(rid))
    anchor(ledger, [rid])
    return rid


def _check5(ledger: Ledger, rid: str) -> Any:
    v = run(ledger, [rid])
    return next(c for c in v.checks if c.number == 5 and c.record_id == rid)


def test_a_terminal_the_registry_does_not_hold_fails_check_5(ledger: Ledger) -> None:
    grid = ex.terminals()[0]
    stray = ex.Terminal(
        grid.id, grid.metering_point, grid.field, grid.unit,
        SM2PrivateKey(b"\x07" * 32, grid.id.encode()), grid.profile,
    )  # fmt: skip
    check = _check5(ledger, _anchored_batch(ledger, stray, "stray-key"))
    assert check.status is Status.FAIL
    kid = public_key_of(stray.key).key_id[:16]
    assert f"terminal key {kid}… ({grid.id}) is not registered in the TrustRegistry" in (
        check.reason
    )


def test_a_terminal_signing_for_a_metering_point_not_granted_fails_check_5(
    ledger: Ledger,
) -> None:
    """The rooftop PV gateway (Ed25519) signs readings of the grid meter's metering point."""
    pv, grid = ex.terminals()[2], ex.terminals()[0]
    check = _check5(
        ledger, _anchored_batch(ledger, pv, "pv-for-grid", metering_point=grid.metering_point)
    )
    assert check.status is Status.FAIL
    assert f"may not sign for metering point {grid.metering_point}" in check.reason


def test_an_altered_ed25519_reading_fails_check_5(ledger: Ledger) -> None:
    pv = ex.terminals()[2]
    rid = "urn:carbonledger:meter-reading:pv-altered"
    digests = {i: c.digest_hex for i, c in ledger.commitments.items()}
    start = ex.PERIOD_START + timedelta(days=41)
    record = ex.signed_batch(
        pv, rid, [(start, start + timedelta(hours=1), "3")], digests, template=None
    )
    record["body"]["readings"][0]["quantity"] = "30"
    ledger.commitments[rid] = commit(record, salt_source=seeded_salts(rid))
    anchor(ledger, [rid])
    check = _check5(ledger, rid)
    assert check.status is Status.FAIL
    assert "body.readings[0].signature: the terminal's signature does not verify" in check.reason


def test_the_public_view_hides_the_signatures_check_5_says_so(ledger: Ledger) -> None:
    grid = next(
        i
        for i, c in ledger.commitments.items()
        if c.record["type"] == "meter-reading" and c.record["body"]["field"] == "natural_gas"
    )
    pins = pins_for(ledger)
    reader = ChainReader(
        ledger.chain.w3, anchor_registry=pins.anchor_registry, trust_registry=pins.trust_registry
    )
    v = verify_bundle(ledger.bundle_bytes([grid], audience="public"), reader=reader, pins=pins)
    check = next(c for c in v.checks if c.number == 5 and c.record_id == grid)
    assert check.status is Status.WARN
    assert "ask for the regulator view" in check.reason


def test_the_evaluation_report_is_checked_against_the_anchored_evaluation(ledger: Ledger) -> None:
    """Check 12: the report's PDF and HTML match ``body.documents`` of the anchored
    evaluation; a PDF changed by one byte matches nothing."""
    closure = {i: validate_record(c.record) for i, c in ledger.commitments.items()}
    record = {**ledger.commitments[ex.EVALUATION].record, "id": ex.EVALUATION + "-report"}
    with_report, files = attach_report(record, closure)
    ledger.commitments[record["id"]] = commit(with_report, salt_source=seeded_salts(record["id"]))
    anchor(ledger, [record["id"]])
    pdf = files[REPORT_NAMES["pdf"]]
    tampered = pdf[:100] + bytes([pdf[100] ^ 1]) + pdf[101:]
    pins = pins_for(ledger)
    reader = ChainReader(
        ledger.chain.w3, anchor_registry=pins.anchor_registry, trust_registry=pins.trust_registry
    )
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    given = [(name, sha[name]) for name in files] + [
        ("tampered.pdf", hashlib.sha256(tampered).hexdigest())
    ]
    v = verify_bundle(ledger.bundle_bytes([record["id"]]), reader=reader, pins=pins, files=given)
    by_file = {c.subject: c for c in v.checks if c.number == 12}
    for name in files:
        assert by_file[f"file {name}"].status is Status.PASS, by_file[f"file {name}"].reason
        assert "body.documents" in by_file[f"file {name}"].reason
    assert by_file["file tampered.pdf"].status is Status.FAIL
