"""One claim per unit (docs/RECORDS.md §3.11), through the real accept path: a second
claim of the same unit into the same regime is refused, into an excluding regime too, into
a regime of another group it is allowed; a correction takes the place of a pending claim,
never of an anchored one; anchored claims show on the equipment page, are reported by
carbon-verify for the units of a bundle, and are told to subscribers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ledger.client import LedgerClient
from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.core.signature import private_key_from_seed, public_key_bytes
from ledger.examples import CR_HX, SUB_TANK_EU, SUB_TANK_UK
from ledger.examples.claims import CLAIM_PRODUCER, claim_record
from ledger.service.delivery import Deliverer, ExchangeWorker
from ledger.store import webhooks as hooks
from ledger.store.access import add_principal, issue_api_key
from ledger.store.producers import add_producer, add_producer_key
from tests.api.exchange.conftest import anchor_all
from tests.api.world import (
    KEYS_FROM,
    KEYS_UNTIL,
    SERVICE_KEY,
    TANK_SUBJECT,
    World,
    revoke_in_store,
)
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Pins
from verifier.report import render_table, report_json

IMPORTER_KEY = private_key_from_seed(hashlib.sha256(b"test importer key").digest())


@pytest.fixture
def importer(world: World) -> Iterator[LedgerClient]:
    """A principal writing claims as the import-declarations producer; its key is on the
    TrustRegistry too (the chain is put back as it was after the test)."""
    chain = world.template.chain
    snapshot = chain.snapshot()
    with world.store.transaction() as session:
        add_producer(session, CLAIM_PRODUCER, created_at=KEYS_FROM)
        add_producer_key(
            session,
            producer=CLAIM_PRODUCER,
            public_key_hex=public_key_bytes(IMPORTER_KEY).hex(),
            valid_from=KEYS_FROM,
            record_types=["claim"],
        )
        add_principal(
            session,
            "importer",
            role="producer",
            producer=CLAIM_PRODUCER,
            record_types=["claim"],
            created_at=KEYS_FROM,
        )
        token = issue_api_key(session, "importer", created_at=KEYS_FROM).token
    trust = chain.contract(
        world.template.artifacts["TrustRegistry"],
        world.template.deployment.address_of("TrustRegistry"),
    )
    public = public_key_bytes(IMPORTER_KEY)
    key_id = hashlib.sha256(public).digest()
    chain.transact(
        trust.functions.registerKey(
            key_id,
            public,
            hashlib.sha256(CLAIM_PRODUCER.encode()).digest(),
            int(KEYS_FROM.timestamp()),
            int(KEYS_UNTIL.timestamp()),
        )
    )
    chain.transact(trust.functions.grantRecordType(key_id, "claim"))
    from fastapi.testclient import TestClient

    client = LedgerClient(
        "http://testserver",
        token,
        producer_key=IMPORTER_KEY,
        http=TestClient(world.app, raise_server_exceptions=False),
    )
    try:
        yield client
    finally:
        chain.revert(snapshot)


def _digests(world: World) -> dict[str, str]:
    return {rid: r.digest_hex for rid, r in world.template.receipts.items()}


def _claim(
    world: World, name: str, regime: str, source: str = SUB_TANK_EU, **kw: Any
) -> dict[str, Any]:
    return claim_record(
        rid=f"urn:carbonledger:claim:t101-{name}",
        regime=regime,
        source_id=source,
        digests={**_digests(world), **kw.pop("digests", {})},
        **kw,
    )


def _anchor(world: World) -> None:
    anchor_all(world)


def test_a_second_claim_into_the_same_regime_is_refused(
    world: World, importer: LedgerClient
) -> None:
    first = importer.submit(_claim(world, "eu", "EU-CBAM"))
    second = _claim(world, "eu-again", "EU-CBAM", year=2027, issued_at="2026-05-01T09:00:00Z")
    with pytest.raises(ConflictError) as info:
        importer.submit(second)
    assert "already claimed into EU-CBAM by urn:carbonledger:claim:t101-eu" in str(info.value)
    with pytest.raises(NotFoundError):
        importer.get_record(second["id"])
    assert first.record_id == "urn:carbonledger:claim:t101-eu"


def test_a_claim_into_an_excluding_regime_is_refused(world: World, importer: LedgerClient) -> None:
    importer.submit(_claim(world, "eu", "EU-CBAM"))
    with pytest.raises(ConflictError) as info:
        importer.submit(_claim(world, "uk", "UK-CBAM", source=SUB_TANK_UK))
    assert "one claim per unit" in str(info.value)


def test_a_claim_into_another_group_is_allowed(world: World, importer: LedgerClient) -> None:
    importer.submit(_claim(world, "eu", "EU-CBAM"))
    receipt = importer.submit(_claim(world, "scope3", "GHGP-SCOPE3"))
    assert receipt.record_id.endswith("t101-scope3")
    rows = world.app.state.api.claims(None, TANK_SUBJECT)  # type: ignore[arg-type]
    assert [(r["regime"], r["final"]) for r in rows] == [("EU-CBAM", False), ("GHGP-SCOPE3", False)]


def test_two_excluding_claims_in_one_bulk_are_refused_whole(
    world: World, importer: LedgerClient
) -> None:
    with pytest.raises(ConflictError) as info:
        importer.submit_bulk(
            [_claim(world, "eu", "EU-CBAM"), _claim(world, "uk", "UK-CBAM", source=SUB_TANK_UK)]
        )
    assert "earlier in this bulk" in str(info.value)
    with pytest.raises(NotFoundError):
        importer.get_record("urn:carbonledger:claim:t101-eu")


def test_a_claim_on_another_units_figure_is_refused(world: World, importer: LedgerClient) -> None:
    with pytest.raises(ConflictError) as info:
        importer.submit(_claim(world, "eu", "EU-CBAM", source=CR_HX))
    assert "not the claimed unit" in str(info.value)


@pytest.mark.parametrize("mined", [True, False], ids=["on-chain", "requested"])
def test_a_claim_on_a_revoked_figure_is_refused(
    world: World, importer: LedgerClient, mined: bool
) -> None:
    revoke_in_store(world, _digests(world)[SUB_TANK_EU], mined=mined)
    claim = _claim(world, "eu", "EU-CBAM")
    with pytest.raises(ConflictError) as info:
        importer.submit(claim)
    state = "on chain" if mined else "requested, pending"
    assert f"{SUB_TANK_EU} is revoked (revocation {state})" in str(info.value)
    with pytest.raises(NotFoundError):
        importer.get_record(claim["id"])
    assert world.app.state.api.claims(None, TANK_SUBJECT) == []  # type: ignore[arg-type]


def test_a_claim_is_final_once_anchored(world: World, importer: LedgerClient) -> None:
    first = importer.submit(_claim(world, "eu", "EU-CBAM"))
    corrected = _claim(
        world,
        "eu-v2",
        "EU-CBAM",
        issued_at="2026-04-16T09:00:00Z",
        supersedes={"id": first.record_id, "digest": first.digest_hex},
    )
    second = importer.submit(corrected)  # a correction while the first is pending
    rows = world.app.state.api.claims(None, TANK_SUBJECT)  # type: ignore[arg-type]
    assert [r["record_id"] for r in rows] == [second.record_id]
    _anchor(world)
    again = _claim(
        world,
        "eu-v3",
        "EU-CBAM",
        issued_at="2026-04-17T09:00:00Z",
        supersedes={"id": second.record_id, "digest": second.digest_hex},
    )
    with pytest.raises(ConflictError) as info:
        importer.submit(again)
    assert "anchored claim is final" in str(info.value)


def test_claims_show_on_the_equipment_page(world: World, importer: LedgerClient) -> None:
    importer.submit(_claim(world, "eu", "EU-CBAM"))
    page = world.http.get("/trail", params={"subject": TANK_SUBJECT})
    assert page.status_code == 200
    # The equipment page's timeline labels the claim and names its regime, in both languages.
    for lang, word in (("en", "Claim"), ("zh", "申报记录")):
        equipment = world.http.get(
            "/equipment/view", params={"subject": TANK_SUBJECT}, headers={"accept-language": lang}
        )
        assert equipment.status_code == 200
        assert f"<strong>{word}</strong>" in equipment.text
        assert (
            'class="claim-regime" title="' in equipment.text and "EU-CBAM</span>" in equipment.text
        )
    assert 'id="claims"' in page.text and 'data-regime="EU-CBAM"' in page.text
    assert "pending anchoring" in page.text
    _anchor(world)
    page = world.http.get("/trail", params={"subject": TANK_SUBJECT})
    assert ">final<" in page.text
    other = world.http.get("/trail", params={"subject": "88.118.8/TI-HX-0042"})
    assert 'id="claims"' not in other.text


def test_carbon_verify_reports_the_claims_of_a_bundles_units(
    world: World, importer: LedgerClient
) -> None:
    importer.submit(_claim(world, "eu", "EU-CBAM"))
    importer.submit(_claim(world, "scope3", "GHGP-SCOPE3"))
    _anchor(world)
    data = world.http.get(
        "/v1/trail/bundle",
        params={"subject": TANK_SUBJECT, "limit": 100},
        headers=world.headers("eu-regulator"),
    ).content
    d = world.template.deployment
    anchor, trust = d.address_of("AnchorRegistry"), d.address_of("TrustRegistry")
    pins = Pins(chain_id=d.chain_id, anchor_registry=anchor, trust_registry=trust)
    result = verify_bundle(
        data,
        reader=ChainReader(world.template.chain.w3, anchor_registry=anchor, trust_registry=trust),
        pins=pins,
    )
    assert result.verdict == "verified", [c for c in result.checks if c.status.name == "FAIL"]
    tank = next(u for u in result.claims if u["unit"] == TANK_SUBJECT)
    assert [(c["regime"], c["year"]) for c in tank["claims"]] == [
        ("EU-CBAM", 2026),
        ("GHGP-SCOPE3", 2026),
    ]
    assert tank["claims"][0]["declarant"] == "Example Process Plant Importer GmbH"
    assert tank["conflicts"] == []
    from datetime import UTC, datetime

    report = report_json(result, pins=pins, checked_at=datetime(2026, 6, 1, tzinfo=UTC))
    assert report["claims"] == result.claims
    assert f"claims of {TANK_SUBJECT}: EU-CBAM 2026" in render_table(result, pins=pins)


def test_claims_made_are_told_once_anchored(world: World, importer: LedgerClient) -> None:
    importer.submit(_claim(world, "eu", "EU-CBAM"))
    facts = world.store.run(lambda s: hooks.unemitted_facts(s, "claim.made", limit=10))
    assert facts == []  # pending: not final, nothing to tell yet
    _anchor(world)
    worker = ExchangeWorker(
        pact=None,
        deliverer=Deliverer(
            world.store, clock=world.clock, signing_key=SERVICE_KEY, http=httpx.Client()
        ),
    )
    assert worker.emit_scanned() >= 1
    events = world.store.run(lambda s: hooks.unemitted_facts(s, "claim.made", limit=10))
    assert events == []


def test_refusals_name_the_record_once(world: World, importer: LedgerClient) -> None:
    """The client's errors repeat neither the ``record <id>:`` prefix nor the path."""
    bad = _claim(world, "eu", "EU-CBAM")
    bad["refs"].append({"rel": "supersedes", "id": CR_HX, "digest": "ab" * 32, "reason": "x"})
    with pytest.raises(MalformedError) as malformed:
        importer.submit(bad)
    assert str(malformed.value).count(f"record {bad['id']}") == 1
    assert malformed.value.path == f"record {bad['id']}: refs[1].reason"
    importer.submit(_claim(world, "eu-1", "EU-CBAM"))
    second = _claim(world, "eu-2", "EU-CBAM")
    with pytest.raises(ConflictError) as conflict:
        importer.submit(second)
    assert str(conflict.value).count(f"record {second['id']}") == 1
