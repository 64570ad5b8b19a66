"""Check 10 recomputes risk assessments (docs/CALC.md §11.5) and schema-3 conversions
(§6.1): the examples, signed and anchored on py-evm next to the records they rest on,
verify; an assessment whose level does not follow from its figure fails with both
values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from ledger.core.bundle import serialize_bundle
from ledger.core.view import commit
from ledger.examples import crossborder as xb
from ledger.examples import knowledge as kb
from tests.verifier.support import Ledger, anchor, build_ledger, register_producers, seeded_salts
from tests.verifier.test_checks import run, statuses
from verifier.model import Status

ASSESSMENTS = (xb.RA_TANK_EU, xb.RA_TANK_NA, xb.RA_TANK_ME, xb.RA_HX_SEA)
CONVERSIONS = (xb.SUB_HX_ME, xb.SUB_TANK_EU_SHARED)


@pytest.fixture(scope="module")
def xb_ledger(artifacts: dict[str, Any]) -> Iterator[Ledger]:
    """The verifier tests' ledger plus the cross-border records, in two more batches
    (reference data, then the records computed from it)."""
    chain = MemoryChain()
    try:
        ledger = build_ledger(chain, artifacts)
        digests = {i: c.digest_hex for i, c in ledger.commitments.items()}
        base = {i: c.record for i, c in ledger.commitments.items()}
        added: list[str] = []

        def add(record: dict[str, Any]) -> dict[str, Any]:
            c = commit(record, salt_source=seeded_salts(record["id"]))
            ledger.commitments[record["id"]] = c
            digests[record["id"]] = c.digest_hex
            added.append(record["id"])
            return record

        xb.add_crossborder(add, digests, base)
        # The new producers, each granted the types it signs (the example producers
        # already hold theirs).
        known = {r["producer"] for r in base.values()}
        grants: dict[str, set[str]] = {}
        for i in added:
            record = ledger.commitments[i].record
            if record["producer"] not in known:
                grants.setdefault(record["producer"], set()).add(record["type"])
        register_producers(chain, ledger.contract("TrustRegistry"), grants)
        reference = [
            i
            for i in added
            if ledger.commitments[i].record["type"] in ("factor-set", "region-rule")
        ]
        anchor(ledger, reference)
        anchor(ledger, [i for i in added if i not in reference])
        yield ledger
    finally:
        chain.close()


def test_risk_assessments_recompute(xb_ledger: Ledger) -> None:
    v = run(xb_ledger, xb_ledger.bundle_bytes(ASSESSMENTS))
    assert v.exit_code == 0, [
        (c.number, c.subject, c.reason) for c in v.checks if c.status is Status.FAIL
    ]
    tenth = {c.subject: c for c in v.checks if c.number == 10}
    for i in range(len(ASSESSMENTS)):
        assert tenth[f"items[{i}]"].status is Status.PASS
    assert "level blue" in tenth["items[0]"].reason
    assert "level red" in tenth["items[1]"].reason


def test_schema_3_conversions_recompute(xb_ledger: Ledger) -> None:
    v = run(xb_ledger, xb_ledger.bundle_bytes(CONVERSIONS))
    assert v.exit_code == 0
    tenth = {c.subject: c for c in v.checks if c.number == 10}
    assert tenth["items[0]"].reason == "result recomputes (24760 kgCO2e as stated)"
    assert tenth["items[1]"].reason == "result recomputes (2.074776 tCO2e/t as stated)"


def test_level_lowered_by_the_producer_fails_check_10(xb_ledger: Ledger) -> None:
    """A red assessment re-issued as 'none' (to lift an export lock): signed by the
    genuine key and anchored, but the level does not follow from the figure."""
    record = dict(xb_ledger.commitments[xb.RA_TANK_NA].record)
    record = {
        **record,
        "id": "urn:carbonledger:risk-assessment:st-tk-0101-north-america-lowered",
        "body": {**record["body"], "level": "none", "level_basis": ["at-or-below-baseline"]},
    }
    c = commit(record, salt_source=seeded_salts(record["id"]))
    xb_ledger.commitments[record["id"]] = c
    anchor(xb_ledger, [record["id"]])
    v = run(xb_ledger, serialize_bundle(xb_ledger.bundle([record["id"]])))
    assert v.exit_code == 1
    check = next(c for c in v.checks if c.number == 10)
    assert check.status is Status.FAIL
    assert "body.level" in check.reason and "'none'" in check.reason and "'red'" in check.reason
    for number in (4, 5, 6, 7):
        assert statuses(v, number) == {Status.PASS}
    assert kb.RULE_XB_NA in {i.view.record["id"] for i in xb_ledger.bundle([record["id"]]).closure}


def test_check_11_flags_a_body_not_recognised_for_the_region(xb_ledger: Ledger) -> None:
    """Attestations of the tank's EU assessment and EU conversion: a body accredited for
    the EU is recognised; one accredited for GB and SEA only is flagged (WARN)."""
    chain = xb_ledger.chain
    trust = xb_ledger.contract("TrustRegistry")
    eu_body, gb_body = chain.dev_accounts()[4], chain.dev_accounts()[5]
    for account, name, regions in (
        (eu_body, "EU Verification GmbH (fictional)", "EU,GB"),
        (gb_body, "GB-SEA Verification Ltd (fictional)", "GB,SEA"),
    ):
        chain.transact(
            trust.functions.accreditBody(account.address, name, "ISO 14065:2020", regions, 0, 2**40)
        )
    ids = (xb.RA_TANK_EU, xb.SUB_TANK_EU_SHARED)
    for rid in ids:
        digest = xb_ledger.commitments[rid].digest
        for account in (eu_body, gb_body):
            chain.transact(trust.functions.attest(digest, b"\x22" * 32, 1), sender=account)
    v = run(xb_ledger, xb_ledger.bundle_bytes(ids))
    eleventh = {c.subject: c for c in v.checks if c.number == 11}
    for i in range(len(ids)):
        check = eleventh[f"items[{i}]"]
        assert check.status is Status.WARN, check.reason
        assert "EU Verification GmbH (fictional)" in check.reason
        assert "recognised for EU)" in check.reason
        assert "not recognised for EU (regions GB, SEA)" in check.reason
    # Records bound for no region keep listing attestations without a region verdict.
    assert all(
        "recognised" not in c.reason
        for c in v.checks
        if c.number == 11 and c.subject.startswith("closure")
    )
