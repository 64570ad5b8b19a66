"""carbon-verify walks from a carbon-efficiency grade to every terminal-signed reading
(check 10, docs/CALC.md §14): a real anchored ledger on py-evm, the example plant over one
day, and a producer that alters one reading after the terminal signed it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from anchoring.deployment import deploy_contracts
from ledger.core.calc.efficiency import compute_carbon_efficiency
from ledger.core.records import validate_record
from ledger.core.view import Commitment, commit
from ledger.examples import efficiency as ex
from ledger.examples.efficiency import efficiency_example_records
from tests.verifier.conftest import pins_for
from tests.verifier.support import Ledger, anchor, register_producers, seeded_salts
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Status, Verification

_REFERENCE = (
    "factor-set",
    "metadata-template",
    "industry-benchmark",
    "efficiency-grading-rule",
)


@pytest.fixture(scope="module")
def ledger(artifacts: dict[str, Any]) -> Iterator[Ledger]:
    chain = MemoryChain()
    try:
        commitments: dict[str, Commitment] = {}

        def digest_of(record: dict[str, Any]) -> str:
            commitments[record["id"]] = commit(record, salt_source=seeded_salts(record["id"]))
            return commitments[record["id"]].digest_hex

        efficiency_example_records(digest_of, days=1)
        deployment = deploy_contracts(chain, artifacts, admin_delay_s=3600)
        built = Ledger(chain, deployment, commitments)
        producers: dict[str, set[str]] = {}
        for c in commitments.values():
            producers.setdefault(c.record["producer"], set()).add(c.record["type"])
        register_producers(chain, built.contract("TrustRegistry"), producers)
        reference = [i for i, c in commitments.items() if c.record["type"] in _REFERENCE]
        anchor(built, reference)
        anchor(built, [i for i in commitments if i not in reference])
        yield built
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
    for number in (2, 4, 5, 7):  # digests, signatures and proofs all hold
        assert {c.status for c in v.checks if c.number == number} == {Status.PASS}, number
    check = next(c for c in v.checks if c.number == 10 and c.record_id == evaluation["id"])
    assert check.status is Status.FAIL
    assert f"{forged['id']}: body.readings[10].signature" in check.reason
