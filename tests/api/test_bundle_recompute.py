"""Bundles the API exports recompute for whoever may see their figures (docs/API.md §3.4,
docs/RECORDS.md §4): an auditor granted a subject gets the inputs of that subject's
figures in full; the public gets in full what rests on public data alone; what is
confidential (a credit change's scores) is said plainly, never passed off as verified.
And a wrong figure is refused at the door: 422 problem+json with the path, the stated and
the recomputed value, nothing stored.

Its own ledger on its own chain (module-scoped): it anchors records beyond the examples.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anchoring.chain import MemoryChain
from ledger.client import submission_bytes
from ledger.core.bundle import parse_bundle
from ledger.core.view import Commitment, commit
from ledger.examples import (
    CC_ENTERPRISE_2025,
    CR_HX,
    CR_TANK,
    CR_TANK_REVISED,
    SUB_HX_SEA,
    SUB_TANK_EU,
)
from ledger.examples.equipment import ENTERPRISE, HX_HANDLE
from ledger.store.access import add_principal, issue_api_key
from tests.api.world import (
    CONVERSION,
    JSON,
    KEYS_FROM,
    PRINCIPALS,
    TANK_SUBJECT,
    World,
    anchor_everything,
    build_template,
    open_world,
    producer_key,
)
from tests.support.publicdata import CR_PUBLIC, SUB_PUBLIC_UK, public_records
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Pins, Status, Verification
from verifier.report import render_table

#: an auditor engaged on both pieces of equipment and on the enterprise's rating
AUDITOR = "engaged-auditor"


@pytest.fixture(scope="module")
def world(artifacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    chain = MemoryChain()
    template = build_template(chain, artifacts, tmp_path_factory.mktemp("recompute-template"))
    w = open_world(template, tmp_path_factory.mktemp("recompute") / "data")
    try:
        digests = {rid: receipt.digest_hex for rid, receipt in template.receipts.items()}
        by_producer = {p[1]: name for name, p in PRINCIPALS.items() if p[1] is not None}

        def digest_of(record: dict[str, Any]) -> str:
            return w.client(by_producer[record["producer"]]).submit(record).digest_hex

        template.records.update(public_records(digests, digest_of))
        with w.store.transaction() as session:
            add_principal(
                session,
                AUDITOR,
                role="auditor",
                grants=[TANK_SUBJECT, HX_HANDLE, ENTERPRISE],
                created_at=KEYS_FROM,
            )
            template.tokens[AUDITOR] = issue_api_key(session, AUDITOR, created_at=KEYS_FROM).token
        anchor_everything(w)
        yield w
    finally:
        w.store.close()
        chain.close()


def _bundle(world: World, record_id: str, principal: str | None) -> bytes:
    response = world.http.get(
        "/v1/record/bundle", params={"id": record_id}, headers=world.headers(principal)
    )
    assert response.status_code == 200, response.text
    return response.content


def _verify(world: World, data: bytes) -> Verification:
    d = world.template.deployment
    anchor = d.address_of("AnchorRegistry")
    reader = ChainReader(world.template.chain.w3, anchor_registry=anchor)
    return verify_bundle(
        data, reader=reader, pins=Pins(chain_id=d.chain_id, anchor_registry=anchor)
    )


def _recomputed(v: Verification) -> dict[str, tuple[Status, bool | None]]:
    return {str(c.record_id): (c.status, c.recomputed) for c in v.checks if c.number == 10}


@pytest.mark.parametrize(
    "record_id", [CR_TANK, CR_HX, SUB_TANK_EU, SUB_HX_SEA, CC_ENTERPRISE_2025, CR_TANK_REVISED]
)
def test_an_auditor_granted_the_subject_recomputes_every_figure(
    world: World, record_id: str
) -> None:
    """Check 10 PASSes for the item and every figure of its closure: the supplier's set and
    the official ones arrive in full, because the auditor sees the figures in full."""
    v = _verify(world, _bundle(world, record_id, AUDITOR))
    assert v.verdict == "verified", [c for c in v.checks if c.status not in ("PASS", "SKIP")]
    recomputed = _recomputed(v)
    assert recomputed[record_id] == (Status.PASS, True)
    assert all(flag is not False for _, flag in recomputed.values())


@pytest.mark.parametrize("record_id", [CR_PUBLIC, SUB_PUBLIC_UK])
def test_anyone_recomputes_figures_resting_on_public_data(world: World, record_id: str) -> None:
    data = _bundle(world, record_id, None)
    bundle = parse_bundle(data)
    assert all(isinstance(i.view, Commitment) for i in (*bundle.items, *bundle.closure))
    v = _verify(world, data)
    assert v.verdict == "verified" and _recomputed(v)[record_id] == (Status.PASS, True)


def test_a_public_credit_change_says_what_could_not_be_recomputed(world: World) -> None:
    v = _verify(world, _bundle(world, CC_ENTERPRISE_2025, None))
    assert v.exit_code == 4 and v.verdict == "not-recomputed"
    assert _recomputed(v)[CC_ENTERPRISE_2025] == (Status.SKIP, False)
    d = world.template.deployment
    table = render_table(
        v, pins=Pins(chain_id=d.chain_id, anchor_registry=d.address_of("AnchorRegistry"))
    )
    result = table[table.index("result:") :]
    assert result.startswith("result: NOT RECOMPUTED") and "VERIFIED" not in result
    assert f"items[0] {CC_ENTERPRISE_2025}: the public view of a credit change hides its " in (
        result
    )
    assert f"auditor granted {ENTERPRISE}" in result


def test_a_correction_verifies_from_its_own_bundle(world: World) -> None:
    """The revised tank footprint supersedes the first one: its bundle carries it, so
    check 9 finds every reference and the correction verifies alone."""
    data = _bundle(world, CR_TANK_REVISED, "eu-regulator")
    closure = [i.view.record["id"] for i in parse_bundle(data).closure]  # type: ignore[union-attr]
    assert CR_TANK in closure
    v = _verify(world, data)
    assert v.verdict == "verified"
    assert {c.status for c in v.checks if c.number == 9} == {Status.PASS}


@pytest.mark.parametrize("bulk", [False, True], ids=["single", "in_a_bulk"])
def test_a_wrong_figure_is_a_422_naming_path_stated_and_recomputed(
    world: World, tmp_path: Path, bulk: bool
) -> None:
    """The EU CBAM conversion of the tank, resubmitted as a new record stating 1.000000
    where calc/1 gives 2.341363."""
    own = open_world(world.template, tmp_path / "own")  # a copy: this test writes
    try:
        record = copy.deepcopy(world.template.records[SUB_TANK_EU])
        record["id"] = f"{SUB_TANK_EU}-restated"
        record["body"]["result"]["total"] = "1.000000"
        wrong = submission_bytes(commit(record), producer_key(CONVERSION))
        headers = {**own.headers("conversion"), **JSON, "Idempotency-Key": "wrong-figure"}
        if bulk:
            good = copy.deepcopy(world.template.records[SUB_TANK_EU])
            good["id"] = f"{SUB_TANK_EU}-good"
            body = (
                b'{"format":"carbonledger-submission-batch/1","submissions":['
                + submission_bytes(commit(good), producer_key(CONVERSION))
                + b","
                + wrong
                + b"]}"
            )
            response = own.http.post("/v1/records/bulk", content=body, headers=headers)
        else:
            response = own.http.post("/v1/records", content=wrong, headers=headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["path"] == f"record {record['id']}: body.result.total"
        assert (problem["stated"], problem["recomputed"]) == ("1.000000", "2.341363")
        for rid in (record["id"], f"{SUB_TANK_EU}-good"):
            got = own.http.get(
                "/v1/record", params={"id": rid}, headers=own.headers("eu-regulator")
            )
            assert got.status_code == 404
        assert own.http.get("/v1/record", params={"id": CR_TANK}).status_code == 200
    finally:
        own.store.close()
