"""The CBAM supplier-to-declarant package (docs/CBAM.md) through the API: figures carried
with the digests of the records they come from, net masses per production route that must
add up (refused otherwise), one calendar year per package, the XLSX workbook opened and
its cells checked, and the package recomputed by carbon-verify from its evidence bundle."""

from __future__ import annotations

import copy
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ledger.core.bundle import parse_bundle
from ledger.core.canonical import parse_json
from ledger.examples import CR_TANK, FS_EU_CBAM_2026, RULE_EU_CBAM, substitution_record
from ledger.exchange.cbam_workbook import ROUTE_HEADERS, SUMMARY_SHEET, XLSX_MEDIA_TYPE
from ledger.store.records import get_record
from tests.api.exchange.conftest import anchor_all
from tests.api.world import World, revoke_in_store
from verifier.cbam import package_differences
from verifier.chain import ChainReader
from verifier.checks import verify_bundle
from verifier.model import Pins

CN = "73090030"
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "cbam"
#: (serial number, net mass in kg) of the three tanks shipped in 2025.
UNITS = {"0201": "12500", "0202": "8000", "0203": "10000"}


def _conversion_id(n: str) -> str:
    return f"urn:carbonledger:factor-substitution:st-tk-{n}-eu-cbam-2026"


def _tank(world: World, n: str, mass: str, cn: str = CN) -> dict[str, Any]:
    """The example tank's carbon record as unit ``n`` of ``mass`` kg and CN code ``cn``."""
    tank = copy.deepcopy(world.template.records[CR_TANK])
    handle = f"88.118.8/ST-TK-{n}"
    tank["id"] = f"urn:carbonledger:carbon-record:st-tk-{n}-2025"
    tank["subject"] = handle
    equipment = tank["body"]["equipment"]
    equipment["cn_code"] = cn
    equipment["mass_kg"] = mass
    equipment["identifiers"][0]["value"] = handle
    equipment["identifiers"][2]["value"] = f"urn:epc:id:giai:0614141.ST-TK-{n}"
    return tank


def _ship(world: World, *, cn: str = CN) -> dict[str, str]:
    """Three tanks of CN 73090030 and their EU CBAM conversions, accepted and anchored."""
    records = world.template.records
    digests = {rid: r.digest_hex for rid, r in world.template.receipts.items()}
    plant, conversion = world.client("plant-mes"), world.client("conversion")
    for n, mass in UNITS.items():
        tank = _tank(world, n, mass, cn)
        digests[tank["id"]] = plant.submit(tank).digest_hex
        sub = substitution_record(
            _conversion_id(n),
            "2026-02-01T09:00:00Z",
            tank,
            records[RULE_EU_CBAM],
            [records[FS_EU_CBAM_2026]],
            digests,
        )
        digests[sub["id"]] = conversion.submit(sub).digest_hex
    anchor_all(world)
    return digests


def _request(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "format": "carbonledger-cbam-request/1",
        "cn_code": CN,
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "installation": {
            "id": "CN-JS-NT-0042",
            "name": "Example Anticorrosion Equipment Co., Nantong works",
            "country": "CN",
            "unlocode": "CNNTG",
        },
        "operator": {"id": "91320600MA1EXAMPLE", "name": "Example Anticorrosion Equipment Co."},
        "routes": [
            {
                "route": "welded shell, epoxy-coated",
                "net_mass_t": "20.5",
                "consignments": [_conversion_id("0201"), _conversion_id("0202")],
            },
            {
                "route": "welded shell, galvanised",
                "net_mass_t": "10",
                "consignments": [_conversion_id("0203")],
            },
        ],
        "net_mass_t": "30.5",
        "free_allocation": {
            "benchmark": "1.370",
            "cbam_factor": "0.975",
            "legal_ref": "IR (EU) 2025/2620 (illustrative benchmark)",
        },
        "carbon_price": {
            "instrument": "national ETS (illustrative)",
            "legal_act": "Interim Regulations on the Management of Carbon Emissions Trading",
            "amount": "1830.00",
            "currency": "CNY",
        },
        "attestation": {
            "verifier": "Example Verification Body",
            "accreditation_number": "CNAS-EX-0001",
            "accreditation_body": "CNAS",
            "link": "https://verifier.example.com/reports/2025-0042",
        },
    }
    request.update(changes)
    return request


def _post(world: World, body: dict[str, Any], *, principal: str = "eu-regulator", **kw: Any) -> Any:
    headers = {**world.headers(principal), **kw.pop("headers", {})}
    return world.http.post("/v1/cbam/packages", json=body, headers=headers, **kw)


@pytest.mark.usefixtures("chain_restored")
def test_every_figure_carries_its_source_digest(world: World) -> None:
    digests = _ship(world)
    r = _post(world, _request())
    assert r.status_code == 200, r.text
    package = parse_json(r.content)
    assert package["format"] == "carbonledger-cbam-package/1"
    assert [c["unit"] for c in package["consignments"]] == [f"88.118.8/ST-TK-{n}" for n in UNITS]
    records = world.template.records
    for c, (n, mass) in zip(package["consignments"], UNITS.items(), strict=True):
        conv_id = _conversion_id(n)
        assert c["conversion"] == {"id": conv_id, "digest": digests[conv_id]}
        assert c["source"]["digest"] == digests[f"urn:carbonledger:carbon-record:st-tk-{n}-2025"]
        assert Decimal(c["net_mass_t"]["value"]) == Decimal(mass) / 1000
        assert c["net_mass_t"]["sources"] == [
            {
                "record": c["source"]["id"],
                "digest": c["source"]["digest"],
                "path": "body.equipment.mass_kg",
            }
        ]
        for figure in ("see_attributed_direct", "see_precursors", "see_indirect"):
            for source in c[figure]["sources"]:
                assert source["digest"] == digests[source["record"]]
    # The stated consignment figures follow from the conversion's own result.
    sub = substitution_record(
        "urn:x:check",
        "2026-02-01T09:00:00Z",
        {
            **copy.deepcopy(records[CR_TANK]),
            "body": {
                **records[CR_TANK]["body"],
                "equipment": {**records[CR_TANK]["body"]["equipment"], "mass_kg": "12500"},
            },
        },
        records[RULE_EU_CBAM],
        [records[FS_EU_CBAM_2026]],
        {rid: rec.digest_hex for rid, rec in world.template.receipts.items()},
    )
    by_channel = sub["body"]["result"]["by_channel"]
    first = package["consignments"][0]
    expected = Decimal(by_channel["direct"]) + Decimal(by_channel["precursor"])
    assert Decimal(first["see_direct"]["value"]) == expected
    assert first["see_indirect"]["value"] == "0"  # CN 7309 is a direct-emissions-only good
    assert first["default_values"] == {
        "used": False,
        "lines": [],
        "share_pct": {
            "value": "0",
            "unit": "%",
            "sources": [
                {
                    "record": first["conversion"]["id"],
                    "digest": first["conversion"]["digest"],
                    "path": "body.lines",
                }
            ],
            "computed": "emissions of lines on the rule's default factor sets / all counted",
        },
    }
    assert first["electricity"][0]["counted"] is False
    vector = parse_json((VECTORS / "electricity_factor_source.json").read_bytes())
    for c in package["consignments"]:
        (line,) = c["electricity"]
        assert line["line_id"] == vector["line_id"]
        assert {k: line["factor_source"][k] for k in vector["expected"]} == vector["expected"]
        assert line["factor_source"]["digest"] == digests[vector["expected"]["set"]]
    assert first["electricity"][0]["mwh_per_t"]["value"] == "1.46"  # 18.25 MWh / 12.5 t
    assert [p["line_id"] for p in first["precursors"]] == ["L01"]
    totals = package["totals"]
    assert totals["net_mass_t"]["value"] == "30.5"
    fa = Decimal("1.370") * Decimal("0.975") * Decimal("30.5")
    assert Decimal(totals["free_allocation_adjustment_t"]["value"]) == fa
    assert totals["carbon_price_paid"] == {
        "amount": "1830.00",
        "currency": "CNY",
        "stated_by": "operator",
    }
    route = package["routes"][0]
    assert route["consignments"] == 2 and route["net_mass_t"]["value"] == "20.5"
    assert len(route["see_total"]["value"].split(".")[1]) == 6


@pytest.mark.usefixtures("chain_restored")
def test_net_masses_that_do_not_add_up_are_refused(world: World) -> None:
    _ship(world)
    request = _request()
    request["routes"][0]["net_mass_t"] = "20.6"
    r = _post(world, request)
    assert r.status_code == 422
    body = r.json()
    assert body["path"] == "routes[0].net_mass_t"
    assert "weigh 20.5 t" in body["detail"] and "20.6" in body["detail"]
    request = _request(net_mass_t="31")
    r = _post(world, request)
    assert (r.status_code, r.json()["path"]) == (422, "net_mass_t")


def test_a_period_spanning_two_years_is_refused(world: World) -> None:
    r = _post(world, _request(period={"start": "2025-07-01", "end": "2026-06-30"}))
    assert r.status_code == 422
    assert r.json()["path"] == "period.end"
    assert "one calendar year" in r.json()["detail"]


@pytest.mark.usefixtures("chain_restored")
def test_consignments_outside_the_good_or_period_are_refused(world: World) -> None:
    _ship(world, cn="73090051")
    r = _post(world, _request())
    assert r.status_code == 422
    assert r.json()["path"] == "routes[0].consignments[0]"
    assert "not 73090030" in r.json()["detail"]
    request = _request(cn_code="73090051", period={"start": "2026-01-01", "end": "2026-12-31"})
    r = _post(world, request)
    assert r.status_code == 422 and "outside" in r.json()["detail"]


@pytest.mark.usefixtures("chain_restored")
def test_who_may_ask_and_what_must_be_anchored(world: World) -> None:
    assert world.http.post("/v1/cbam/packages", json=_request()).status_code == 401
    r = _post(world, _request())
    assert r.status_code == 404  # nothing shipped yet: no such conversions
    _ship(world)
    assert _post(world, _request(), principal="rating").status_code == 404  # no full view
    assert _post(world, _request(), principal="plant-mes").status_code == 200  # its own records


@pytest.mark.usefixtures("chain_restored")
def test_the_workbook_is_laid_out_like_the_communication_template(world: World) -> None:
    _ship(world)
    r = _post(world, _request(), headers={"accept": XLSX_MEDIA_TYPE})
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX_MEDIA_TYPE
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == [SUMMARY_SHEET, "Consignments", "Precursors", "Sources"]
    ws = wb[SUMMARY_SHEET]
    cells = {ws.cell(row=i, column=1).value: ws.cell(row=i, column=2).value for i in range(1, 16)}
    assert cells["Installation name"] == "Example Anticorrosion Equipment Co., Nantong works"
    assert cells["UN/LOCODE"] == "CNNTG"
    assert cells["CN code"] == CN
    assert cells["Total net mass (t)"] == 30.5
    header_row = next(i for i in range(1, 40) if ws.cell(row=i, column=1).value == ROUTE_HEADERS[0])
    assert [ws.cell(row=header_row, column=c).value for c in range(1, 11)] == list(ROUTE_HEADERS)
    assert ws.cell(row=header_row + 1, column=1).value == "welded shell, epoxy-coated"
    assert ws.cell(row=header_row + 1, column=5).value == 20.5
    price_row = next(
        i for i in range(1, 60) if ws.cell(row=i, column=1).value == "Type of instrument"
    )
    assert ws.cell(row=price_row + 1, column=3).value == 1830
    assert ws.cell(row=price_row + 1, column=4).value == "CNY"
    consignments = wb["Consignments"]
    assert consignments.cell(row=1, column=4).value == "Conversion digest"
    package = parse_json(_post(world, _request()).content)
    for row, c in enumerate(package["consignments"], start=2):
        assert consignments.cell(row=row, column=3).value == c["conversion"]["id"]
        assert consignments.cell(row=row, column=4).value == c["conversion"]["digest"]
        assert consignments.cell(row=row, column=12).value == float(c["see_total"]["value"])
    assert wb["Sources"].max_row == 1 + 2 * len(UNITS)


@pytest.mark.usefixtures("chain_restored")
def test_carbon_verify_recomputes_the_package_from_its_bundle(world: World) -> None:
    _ship(world)
    package = parse_json(_post(world, _request()).content)
    r = world.http.post("/v1/cbam/bundle", json=_request(), headers=world.headers("eu-regulator"))
    assert r.status_code == 200, r.text
    d = world.template.deployment
    anchor, trust = d.address_of("AnchorRegistry"), d.address_of("TrustRegistry")
    result = verify_bundle(
        r.content,
        reader=ChainReader(world.template.chain.w3, anchor_registry=anchor, trust_registry=trust),
        pins=Pins(chain_id=d.chain_id, anchor_registry=anchor, trust_registry=trust),
    )
    assert result.verdict == "verified", [c for c in result.checks if c.status.name == "FAIL"]
    bundle = parse_bundle(r.content, require_canonical=True)
    # The electricity factor's source is stated, and recomputed the same from the bundle.
    assert package["consignments"][0]["electricity"][0]["factor_source"]["publisher"]
    assert package_differences(package, [bundle]) == []
    forged = copy.deepcopy(package)
    forged["consignments"][1]["see_direct"]["value"] = "0.1"
    forged["totals"]["net_mass_t"]["value"] = "29"
    differences = package_differences(forged, [bundle])
    assert any(d.startswith("consignments[1].see_direct.value") for d in differences)
    assert any(d.startswith("totals.net_mass_t.value") for d in differences)


@pytest.mark.usefixtures("chain_restored")
def test_the_export_lock_holds_back_a_package(world: World) -> None:
    _ship(world)
    asked: list[tuple[list[str], str | None]] = []

    def lock(subjects: Any, region: str | None) -> dict[str, str]:
        asked.append((list(subjects), region))
        return {s: "red risk assessment" for s in subjects if s.endswith("0202")}

    world.app.state.cbam.lock = lock
    r = _post(world, _request())
    assert r.status_code == 409
    assert "88.118.8/ST-TK-0202" in r.json()["detail"]
    assert all(region == "EU" for _, region in asked)


def _revoke(world: World, record_id: str, *, mined: bool) -> None:
    digest = world.store.run(lambda s: get_record(s, record_id).digest_hex, readonly=True)
    revoke_in_store(world, digest, mined=mined)


@pytest.mark.usefixtures("chain_restored")
def test_a_revoked_conversion_is_refused_like_an_unanchored_one(world: World) -> None:
    _ship(world)
    _revoke(world, _conversion_id("0202"), mined=True)
    for accept in ("application/json", XLSX_MEDIA_TYPE):
        r = _post(world, _request(), headers={"accept": accept})
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert _conversion_id("0202") in detail and "revoked (revocation on chain)" in detail


@pytest.mark.usefixtures("chain_restored")
def test_a_requested_revocation_of_a_source_record_is_refused_too(world: World) -> None:
    _ship(world)
    _revoke(world, "urn:carbonledger:carbon-record:st-tk-0203-2025", mined=False)
    r = _post(world, _request())
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert "st-tk-0203-2025 is revoked (revocation requested, pending)" in detail


@pytest.mark.usefixtures("chain_restored")
def test_a_superseded_conversion_is_refused_naming_its_correction(world: World) -> None:
    digests = _ship(world)
    records = world.template.records
    old = _conversion_id("0201")
    tank = _tank(world, "0201", UNITS["0201"])
    fixed = substitution_record(
        old + "-v2",
        "2026-02-02T09:00:00Z",
        tank,
        records[RULE_EU_CBAM],
        [records[FS_EU_CBAM_2026]],
        digests,
    )
    fixed["refs"].append(
        {"rel": "supersedes", "id": old, "digest": digests[old], "reason": "correction"}
    )
    world.client("conversion").submit(fixed)
    anchor_all(world)
    r = _post(world, _request())
    assert r.status_code == 409, r.text
    assert f"{old} is superseded by {old}-v2" in r.json()["detail"]
    request = _request()
    request["routes"][0]["consignments"][0] = old + "-v2"
    assert _post(world, request).status_code == 200


def _schema_validator(name: str) -> Any:
    """A validator of docs/<name>, the request schema resolvable by its ``$id``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    docs = Path(__file__).resolve().parents[3] / "docs"
    request = parse_json((docs / "cbam-request.schema.json").read_bytes())
    registry = Registry().with_resource(request["$id"], Resource.from_contents(request))
    schema = parse_json((docs / name).read_bytes())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


@pytest.mark.usefixtures("chain_restored")
def test_requests_and_packages_validate_against_their_published_schemas(world: World) -> None:
    requests = _schema_validator("cbam-request.schema.json")
    packages = _schema_validator("cbam-package.schema.json")
    requests.validate(_request())
    assert not requests.is_valid(_request(cn_code="7309"))  # a CN code of 8 digits
    assert not requests.is_valid({**_request(), "extra": 1})
    _ship(world)
    package = parse_json(_post(world, _request()).content)
    packages.validate(package)
    bare = _request()
    for key in ("free_allocation", "carbon_price", "attestation"):
        del bare[key]
    packages.validate(parse_json(_post(world, bare).content))
    forged = copy.deepcopy(package)
    forged["consignments"][0]["conversion"]["digest"] = "not hex"
    assert not packages.is_valid(forged)
