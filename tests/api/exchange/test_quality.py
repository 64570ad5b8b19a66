"""Data quality and assurance (docs/RECORDS.md §3.8.1): schema version 2 records carry
PACT's data-quality indicators and the assurance block; carbon-verify recomputes the
primary data share from the lines (docs/CALC.md §13) and fails a stated share that does
not; the PACT footprint shows them, tied to the attestation on chain when there is one."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest

from ledger.core.calc.lines import check_carbon_record
from ledger.core.calc.substitution import check_substitution
from ledger.core.errors import CalculationMismatchError, MalformedError
from ledger.core.records import validate_record
from ledger.examples import CR_TANK, SUB_TANK_EU, example_records
from ledger.examples.quality import REPORT, with_quality
from ledger.service.recompute import Recomputation
from ledger.store.chainfacts import add_attestation
from ledger.store.records import get_record
from tests.api.exchange.conftest import PactHost, anchor_all
from tests.api.world import NOW, World
from tests.support.pactspec import PactSpec
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Pins


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, Any]]:
    return example_records()


def _sets(records: dict[str, dict[str, Any]], record: dict[str, Any]) -> list[Any]:
    return [validate_record(records[r["id"]]) for r in record["refs"] if r["rel"] == "factor-set"]


def test_primary_data_share_is_recomputed_from_the_lines(
    records: dict[str, dict[str, Any]],
) -> None:
    tank = copy.deepcopy(records[CR_TANK])
    # L02, the coating (850 kg x 5.2336 kgCO2e/kg = 4448.56 kg), declared secondary.
    tank["body"]["lines"][1]["data_type"] = "secondary"
    v2 = with_quality(tank)
    # By hand: cradle-to-gate lines L01 24420 + L02 4448.56 + L03 86.4 x 56.1 = 4847.04
    # + L04 18250 x 0.5306 = 9683.45 = 43399.05 kg; primary = 43399.05 - 4448.56.
    expected = (Decimal("38950.49") * 100 / Decimal("43399.05")).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN
    )
    assert v2["body"]["quality"]["primary_data_share"] == str(expected) == "89.75"
    check_carbon_record(validate_record(v2), _sets(records, v2))
    forged = copy.deepcopy(v2)
    forged["body"]["quality"]["primary_data_share"] = "100.00"
    with pytest.raises(CalculationMismatchError) as info:
        check_carbon_record(validate_record(forged), _sets(records, forged))
    assert "body.quality.primary_data_share" in str(info.value)
    assert (info.value.expected, info.value.computed) == ("100.00", "89.75")


def test_a_conversions_share_weighs_its_counted_lines(records: dict[str, dict[str, Any]]) -> None:
    conversion = with_quality(records[SUB_TANK_EU], source=records[CR_TANK])
    # Counted cradle-to-gate lines: L01 (24420 kg) and L03 (4847.04 kg), both primary.
    assert conversion["body"]["quality"]["primary_data_share"] == "100.00"
    closure = [validate_record(r) for r in records.values() if r["type"] != "factor-substitution"]
    check_substitution(validate_record(conversion), closure)
    conversion["body"]["quality"]["primary_data_share"] = "99.00"
    with pytest.raises(CalculationMismatchError):
        check_substitution(validate_record(conversion), closure)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (("ratings", "temporal", "0.5"), "body.quality.ratings.temporal"),
        (("ratings", "reliability", "5.1"), "body.quality.ratings.reliability"),
        (("coverage_pct", None, "100.1"), "body.quality.coverage_pct"),
        (("assurance", "level", "moderate"), "body.quality.assurance.level"),
        (("assurance", "report_sha256", "AB" * 32), "body.quality.assurance.report_sha256"),
    ],
)
def test_quality_blocks_out_of_range_are_refused(
    records: dict[str, dict[str, Any]], change: tuple[str, str | None, str], path: str
) -> None:
    v2 = with_quality(records[CR_TANK])
    key, sub, value = change
    if sub is None:
        v2["body"]["quality"][key] = value
    else:
        v2["body"]["quality"][key][sub] = value
    with pytest.raises(MalformedError) as info:
        validate_record(v2)
    assert info.value.path == path


def test_schema_1_has_no_quality_block(records: dict[str, dict[str, Any]]) -> None:
    v1 = with_quality(records[CR_TANK])
    v1["schema_version"] = "1"
    v1["body"].pop("validity_exceptions", None)  # schema 2's other member
    with pytest.raises(MalformedError) as info:
        validate_record(v1)
    assert info.value.path == "body.quality"


def _submit_v2(world: World, *, share: str | None = None) -> dict[str, Any]:
    tank = copy.deepcopy(world.template.records[CR_TANK])
    tank["id"] = "urn:carbonledger:carbon-record:st-tk-0101-2025-q"
    v2 = with_quality(tank)
    if share is not None:
        v2["body"]["quality"]["primary_data_share"] = share
    world.client("plant-mes").submit(v2)
    anchor_all(world)
    return v2


def _verify(world: World, record_id: str) -> Any:
    data = world.http.get(
        "/v1/record/bundle", params={"id": record_id}, headers=world.headers("eu-regulator")
    ).content
    d = world.template.deployment
    anchor, trust = d.address_of("AnchorRegistry"), d.address_of("TrustRegistry")
    return verify_bundle(
        data,
        reader=ChainReader(world.template.chain.w3, anchor_registry=anchor, trust_registry=trust),
        pins=Pins(chain_id=d.chain_id, anchor_registry=anchor, trust_registry=trust),
    )


@pytest.mark.usefixtures("chain_restored")
def test_carbon_verify_recomputes_the_stated_share(world: World) -> None:
    record = _submit_v2(world)
    assert _verify(world, record["id"]).verdict == "verified"


def test_acceptance_refuses_a_share_that_does_not_recompute(world: World) -> None:
    with pytest.raises(MalformedError) as info:
        _submit_v2(world, share="42.00")
    assert info.value.path.endswith("body.quality.primary_data_share")
    assert "stated '42.00', recomputed '100.00'" in str(info.value)


@pytest.mark.usefixtures("chain_restored")
def test_carbon_verify_fails_a_share_that_does_not_recompute(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A ledger that skipped its recomputation at acceptance (a compromised or older
    # service): the auditor's verifier is what catches the figure.
    monkeypatch.setattr(Recomputation, "check", lambda self, p: None)
    record = _submit_v2(world, share="42.00")
    result = _verify(world, record["id"])
    assert result.verdict == "failed"
    failed = [c for c in result.checks if c.status.name == "FAIL"]
    assert [c.number for c in failed] == [10]
    assert "body.quality.primary_data_share" in failed[0].reason


@pytest.mark.usefixtures("chain_restored")
def test_the_footprint_carries_quality_and_the_onchain_attestation(
    pact_host: PactHost, pact_spec: PactSpec
) -> None:
    world = pact_host.world
    record = _submit_v2(world)
    digest = world.store.run(lambda s: get_record(s, record["id"]).digest_hex, readonly=True)
    with world.store.transaction() as session:
        add_attestation(
            session,
            digest_hex=digest,
            attester="Example Verification Body",
            report_digest_hex=REPORT,
            verdict="conforms",
            observed_at=NOW,
            state="mined",
            tx_hash="0x" + "ab" * 32,
        )
    token = pact_host.token()
    found = pact_host.get(
        "/3/footprints?productId=urn:carbonledger:handle:88.118.8/ST-TK-0101&status=Active",
        token,
    ).json()["data"]
    footprint = next(f for f in found if f["extensions"][0]["data"]["recordId"] == record["id"])
    pact_spec.check("ProductFootprint", footprint)
    pcf = footprint["pcf"]
    assert pcf["primaryDataShare"] == "100.00"
    assert pcf["dqi"] == {"technologicalDQR": "1.6", "geographicalDQR": "2.1", "temporalDQR": "1.2"}
    assert pcf["exemptedEmissionsPercent"] == "0.4"
    verification = pcf["verification"]
    assert verification["coverage"] == "product level"
    assert verification["providerName"] == "Example Verification Body"
    assert verification["completedAt"] == "2026-03-10T00:00:00Z"
    assert "attested on-chain by Example Verification Body" in verification["comments"]
    assert "0x" + "ab" * 32 in verification["comments"]
