"""Bundles exported by the API verify with the auditor's verifier against the chain, carry
the closure recomputation needs, follow the caller's view, and are never handed out for
records that nothing can prove yet (docs/FORMAT.md §6)."""

from __future__ import annotations

import copy

from ledger.client import submission_bytes
from ledger.core.bundle import Bundle, parse_bundle
from ledger.core.calc.substitution import compute_substitution
from ledger.core.records import validate_record
from ledger.core.view import Commitment, RedactedView, commit
from ledger.examples import (
    CR_HX,
    CR_TANK,
    CR_TANK_REVISED,
    FS_IPCC_2006,
    FS_SUPPLIER,
    RULE_EU_CBAM,
    SUB_TANK_EU,
)
from tests.api.world import JSON, PLANT, TANK_SUBJECT, World, producer_key
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Pins, Verification


def _verify(world: World, data: bytes, *, verdict: str = "verified") -> Verification:
    d = world.template.deployment
    anchor, trust = d.address_of("AnchorRegistry"), d.address_of("TrustRegistry")
    reader = ChainReader(world.template.chain.w3, anchor_registry=anchor, trust_registry=trust)
    result = verify_bundle(
        data,
        reader=reader,
        pins=Pins(chain_id=d.chain_id, anchor_registry=anchor, trust_registry=trust),
    )
    failures = [c for c in result.checks if c.status.name != "PASS" and c.status.name != "SKIP"]
    assert result.verdict == verdict, failures
    return result


def _ids(bundle: Bundle, group: str) -> list[str]:
    out = []
    for item in getattr(bundle, group):
        if isinstance(item.view, Commitment):
            out.append(item.view.record["id"])
        else:
            out.append(next(d.value for d in item.view.disclosures if d.path == ("id",)))
    return out


def test_a_conversion_bundle_verifies_and_recomputes_from_its_closure(world: World) -> None:
    response = world.http.get(
        "/v1/record/bundle", params={"id": SUB_TANK_EU}, headers=world.headers("eu-regulator")
    )
    assert response.status_code == 200, response.text
    _verify(world, response.content)
    bundle = parse_bundle(response.content, require_canonical=True)
    assert _ids(bundle, "items") == [SUB_TANK_EU]
    record = world.template.records[SUB_TANK_EU]
    wanted = {r["id"] for r in record["refs"]}
    closure = set(_ids(bundle, "closure"))
    assert wanted <= closure
    # The rule's own factor sets come along too (the closure is transitive).
    assert {r["id"] for r in world.template.records[RULE_EU_CBAM]["refs"]} <= closure
    # Recomputation (calc/1) from nothing but the bundle gives the record's result.
    by_id = {
        item.view.record["id"]: validate_record(item.view.record)
        for item in bundle.closure
        if isinstance(item.view, Commitment)
    }
    source = by_id[record["body"]["source"]["id"]]
    rule = by_id[record["body"]["rule"]["id"]]
    sets = [by_id[s["id"]] for s in record["body"]["factor_sets"]]
    assert compute_substitution(source, rule, sets)["result"] == record["body"]["result"]
    assert bundle.receipts is not None
    assert [r.record_id for r in bundle.receipts] == [SUB_TANK_EU]
    headers = bundle.batches
    assert all(h.tx_hash and h.block_hash for h in headers.values())
    assert bundle.chain.chain_id == world.template.deployment.chain_id


def test_the_public_gets_the_redacted_view_of_a_confidential_record(world: World) -> None:
    """The tank's footprint quotes a supplier's declared factors: the public sees its
    totals, not its lines, and its verification says that nothing of it was recomputed."""
    response = world.http.get("/v1/record/bundle", params={"id": CR_TANK})
    assert response.status_code == 200
    bundle = parse_bundle(response.content, require_canonical=True)
    item = bundle.items[0]
    assert isinstance(item.view, RedactedView)
    shown = {d.path for d in item.view.disclosures}
    assert ("body", "totals") in {p[:2] for p in shown}
    assert not any(p[:2] == ("body", "lines") and p[-1] == "quantity" for p in shown)
    result = _verify(world, response.content, verdict="not-recomputed")
    assert [c.record_id for c in result.not_recomputed()] == [CR_TANK]
    # The official reference data it rests on travels in full, even to the public.
    full = [i.view.record["id"] for i in bundle.closure if isinstance(i.view, Commitment)]
    assert FS_IPCC_2006 in full and FS_SUPPLIER not in full


def test_a_pending_record_is_refused_with_its_promised_anchoring_time(world: World) -> None:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-pending"
    receipt = world.client("plant-mes").submit(record)
    response = world.http.get(
        "/v1/record/bundle", params={"id": record["id"]}, headers=world.headers("plant-mes")
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["anchor_by"] == receipt.anchor_by
    assert problem["record_id"] == record["id"]


def test_a_trail_bundle_leaves_pending_records_out_and_counts_them(world: World) -> None:
    record = copy.deepcopy(world.template.records[CR_TANK])
    record["id"] = f"{CR_TANK}-trail-pending"
    body = submission_bytes(commit(record), producer_key(PLANT))
    headers = {**world.headers("plant-mes"), **JSON, "Idempotency-Key": "t"}
    assert world.http.post("/v1/records", content=body, headers=headers).status_code == 201
    response = world.http.get(
        "/v1/trail/bundle", params={"subject": TANK_SUBJECT}, headers=world.headers("eu-regulator")
    )
    assert response.status_code == 200
    assert response.headers["carbonledger-pending-count"] == "1"
    bundle = parse_bundle(response.content, require_canonical=True)
    items = _ids(bundle, "items")
    assert CR_TANK in items and CR_TANK_REVISED in items and SUB_TANK_EU in items
    assert record["id"] not in items
    _verify(world, response.content)


def test_a_producer_gets_the_inputs_of_its_own_figures_in_full(world: World) -> None:
    """The conversion service sees its conversion in full, so it gets what the figures
    are computed from in full too (the plant's source record), and the bundle recomputes;
    the plant's other records stay out of its reach."""
    response = world.http.get(
        "/v1/record/bundle", params={"id": SUB_TANK_EU}, headers=world.headers("conversion")
    )
    bundle = parse_bundle(response.content)
    assert isinstance(bundle.items[0].view, Commitment)
    plant_items = [i for i in bundle.closure if i.view.record["producer"] == PLANT]  # type: ignore[union-attr]
    assert [i.view.record["id"] for i in plant_items] == [CR_TANK]  # type: ignore[union-attr]
    _verify(world, response.content)
    response = world.http.get(
        "/v1/record/bundle", params={"id": CR_TANK}, headers=world.headers("conversion")
    )
    assert response.status_code == 404


def test_a_query_bundle_filters_by_type(world: World) -> None:
    response = world.http.get(
        "/v1/bundles",
        params={"type": "factor-substitution", "limit": 10},
        headers=world.headers("eu-regulator"),
    )
    assert response.status_code == 200
    bundle = parse_bundle(response.content)
    assert all(i.view.record["type"] == "factor-substitution" for i in bundle.items)  # type: ignore[union-attr]
    assert len(bundle.items) == 3
    _verify(world, response.content)


def test_a_bundle_of_exactly_the_records_named(world: World) -> None:
    from ledger.core.view import reconstruct

    wanted = [CR_TANK, CR_HX]
    response = world.http.get("/v1/bundles", params={"id": wanted})
    assert response.status_code == 200, response.text
    bundle = parse_bundle(response.content, require_canonical=True)
    assert sorted(str(reconstruct(i.view)["id"]) for i in bundle.items) == sorted(wanted)
    too_many = world.http.get("/v1/bundles", params={"id": [f"urn:x:{n}" for n in range(101)]})
    assert too_many.status_code == 422
