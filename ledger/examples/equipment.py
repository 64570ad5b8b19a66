"""Example carbon records of two pieces of equipment.

The figures are worked by hand in tests/vectors/calc/*.json; the equipment,
enterprise and documents are fictional.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.records import validate_record
from ledger.core.types import vocab
from ledger.examples import factors as ref
from ledger.examples.builder import activity_line, envelope, quote_factor

PRODUCER_MES = "urn:carbonledger:producer:example-plant-mes"
PRODUCER_RATING = "urn:carbonledger:producer:credit-rating-desk"

TANK_HANDLE = "88.118.8/ST-TK-0101"
TANK_IFC = "2odIvDaWbEyQfLdVSBzoV_"
HX_HANDLE = "88.118.8/TI-HX-0042"
HX_IFC = "0K9m3$Zy5Fvw8Qe1RbT3aH"
ENTERPRISE = "urn:carbonledger:enterprise:example-anticorrosion-equipment"

CR_TANK = "urn:carbonledger:carbon-record:st-tk-0101-2025-v1"
CR_TANK_REVISED = "urn:carbonledger:carbon-record:st-tk-0101-2025-v2"
CR_HX = "urn:carbonledger:carbon-record:ti-hx-0042-2025-v1"
BIM_TANK_INSPECTION = "urn:carbonledger:bim-archive:st-tk-0101-inspection-2026-03"
CC_ENTERPRISE_2024 = "urn:carbonledger:credit-change:example-anticorrosion-2024"
CC_ENTERPRISE_2025 = "urn:carbonledger:credit-change:example-anticorrosion-2025"


def cn_grid_exception(digests: Mapping[str, str]) -> dict[str, Any]:
    """Why the 2023 Chinese grid factors serve a 2025 period (docs/RECORDS.md §3.8)."""
    return {
        "factor_set": {"id": ref.FS_CN_MEE_2023, "digest": digests[ref.FS_CN_MEE_2023]},
        "code": "latest-published",
        "text": "The MEE/NBS 2023 grid factors are the latest Chinese grid factors published "
        "when the record was issued; none covering 2025 had been released.",
    }


def _set_refs(lines: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: dict[str, str] = {}
    for line in lines:
        seen.setdefault(line["factor"]["set"]["id"], line["factor"]["set"]["digest"])
    return [{"rel": "factor-set", "id": i, "digest": d} for i, d in seen.items()]


def carbon_record(
    rid: str,
    handle: str,
    ifc: str,
    name: str,
    cn: str,
    mass: str,
    stages: list[str],
    lines: list[dict[str, Any]],
    extra_ids: list[dict[str, str]],
    issued_at: str,
    refs: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A carbon record of one piece of equipment by the plant's MES; its totals are
    computed with calc/1 from ``lines``."""
    body: dict[str, Any] = {
        "equipment": {
            "name": name,
            "identifiers": [
                {"scheme": "handle", "value": handle},
                {"scheme": "ifc_globalid", "value": ifc},
                *extra_ids,
            ],
            "cn_code": cn,
            "declared_unit": {"unit": "piece", "amount": "1"},
            "mass_kg": mass,
        },
        "reference_period": {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
        "boundary": {
            "stages": stages,
            "exclusions": [{"what": "capital goods of the plant", "reason": "cut-off, below 1 %"}],
        },
        "methodology": {"standards": ["ISO14067", "GHGP-Product"], "gwp_set": "AR6"},
        "rounding": {"mode": "ROUND_HALF_EVEN", "places": 2},
        "lines": lines,
        "totals": {
            "unit": "kgCO2e",
            "by_stage": {},
            "by_channel": {},
            "by_gas": {},
            "total": "0",
        },
    }
    record = envelope(
        "carbon-record", rid, handle, issued_at, PRODUCER_MES, body, _set_refs(lines) + (refs or [])
    )
    cn_sets = {
        line["factor"]["set"]["id"]: line["factor"]["set"]["digest"]
        for line in lines
        if line["factor"]["set"]["id"] == ref.FS_CN_MEE_2023
    }
    if cn_sets:
        # A 2025 period on 2023 grid factors: schema 2 states why (docs/CALC.md §10.1).
        record["schema_version"] = "2"
        record["body"]["validity_exceptions"] = [cn_grid_exception(cn_sets)]
    # The totals are filled with calc/1; tests/vectors/calc holds the same
    # figures worked by hand, and the tests compare the two.
    record["body"]["totals"] = compute_carbon_totals(validate_record(record))
    return record


def storage_tank_carbon_record(
    digests: Mapping[str, str],
    *,
    recoat_kg: str = "120",
    revision_of: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A 12.5 t steel storage tank (CN 7309) with an epoxy anti-corrosion coating
    system, made in China, cradle to grave, with Chinese grid factors."""
    sup, ipcc = ref.supplier_factor_set(), ref.ipcc_2006_factor_set()
    cn, ill = ref.cn_mee_2023_factor_set(), ref.illustrative_factor_set()
    mst, raw = "manufacturing_surface_treatment", "raw_material"
    lines = [
        activity_line(
            "L01",
            raw,
            "Hot-rolled steel plate S355 for shell and heads, incl. 0.7 t cut-offs",
            "purchased_material",
            "precursor",
            "13.2",
            "t",
            quote_factor(sup, "steel-plate-hr-direct-see", digests),
            "supplier communication SC-2025-17",
        ),
        activity_line(
            "L02",
            raw,
            "Epoxy anti-corrosion coating system (primer and topcoat)",
            "purchased_material",
            "out_of_scope",
            "850",
            "kg",
            quote_factor(sup, "epoxy-coating-system", digests),
            "coating delivery notes 2025",
        ),
        activity_line(
            "L03",
            mst,
            "Natural gas: plate forming, post-weld heat treatment, coating cure",
            "stationary_combustion",
            "direct",
            "86.4",
            "GJ",
            quote_factor(ipcc, "ng-default", digests),
            "gas meter readings 2025",
        ),
        activity_line(
            "L04",
            mst,
            "Electricity: cutting, welding, grit blasting, spraying",
            "purchased_electricity",
            "indirect",
            "18250",
            "kWh",
            quote_factor(cn, "cn-2023-national", digests),
            "electricity bills 2025",
        ),
        activity_line(
            "L05",
            "transport",
            "Road haulage plant to Shanghai port, 320 km",
            "freight",
            "out_of_scope",
            "4000",
            "t.km",
            quote_factor(ill, "road-hgv-cn", digests),
        ),
        activity_line(
            "L06",
            "transport",
            "Container shipping Shanghai to Rotterdam, 19 500 km",
            "freight",
            "out_of_scope",
            "243750",
            "t.km",
            quote_factor(ill, "sea-container", digests),
        ),
        activity_line(
            "L07",
            "operation_maintenance",
            f"Maintenance recoating over the 20-year design life ({recoat_kg} kg epoxy)",
            "purchased_material",
            "out_of_scope",
            recoat_kg,
            "kg",
            quote_factor(sup, "epoxy-coating-system", digests),
        ),
        activity_line(
            "L08",
            "end_of_life",
            "Dismantling and scrap handling",
            "waste_treatment",
            "out_of_scope",
            "12.5",
            "t",
            quote_factor(ill, "steel-dismantling", digests),
        ),
    ]
    extra = [{"scheme": "gs1_giai", "value": "urn:epc:id:giai:0614141.ST-TK-0101"}]
    rid, refs, issued = CR_TANK, None, "2026-01-25T08:00:00Z"
    if revision_of is not None:
        rid, issued = CR_TANK_REVISED, "2026-03-20T08:00:00Z"
        refs = [
            {
                "rel": "supersedes",
                "id": CR_TANK,
                "digest": revision_of[CR_TANK],
                "reason": "maintenance-cycle-shortened",
            },
            {
                "rel": "archive",
                "id": BIM_TANK_INSPECTION,
                "digest": revision_of[BIM_TANK_INSPECTION],
            },
        ]
    return carbon_record(
        rid,
        TANK_HANDLE,
        TANK_IFC,
        "Epoxy-coated steel storage tank T-101, 50 m3",
        "7309",
        "12500",
        list(vocab.STAGES),
        lines,
        extra,
        issued,
        refs,
    )


def heat_exchanger_carbon_record(digests: Mapping[str, str]) -> dict[str, Any]:
    """A 3.2 t titanium-lined shell-and-tube heat exchanger, cradle to port."""
    sup, ipcc = ref.supplier_factor_set(), ref.ipcc_2006_factor_set()
    cn, ill = ref.cn_mee_2023_factor_set(), ref.illustrative_factor_set()
    mst, raw = "manufacturing_surface_treatment", "raw_material"
    lines = [
        activity_line(
            "H01",
            raw,
            "Titanium sheet Grade 2 for tube-sheet cladding and lining",
            "purchased_material",
            "out_of_scope",
            "420",
            "kg",
            quote_factor(sup, "titanium-sheet-gr2", digests),
            "mill certificate TI-2025-0042",
        ),
        activity_line(
            "H02",
            raw,
            "Carbon steel plate for the shell",
            "purchased_material",
            "precursor",
            "2.9",
            "t",
            quote_factor(sup, "steel-plate-hr-direct-see", digests),
        ),
        activity_line(
            "H03",
            mst,
            "Electricity: explosion bonding preparation, TIG welding, machining, helium leak test",
            "purchased_electricity",
            "indirect",
            "6400",
            "kWh",
            quote_factor(cn, "cn-2023-national", digests),
            "sub-meter HX line 2025",
        ),
        activity_line(
            "H04",
            mst,
            "Natural gas: post-weld heat treatment",
            "stationary_combustion",
            "direct",
            "12.6",
            "GJ",
            quote_factor(ipcc, "ng-default", digests),
        ),
        activity_line(
            "H05",
            mst,
            "Epoxy coating of the shell exterior",
            "purchased_material",
            "out_of_scope",
            "60",
            "kg",
            quote_factor(sup, "epoxy-coating-system", digests),
        ),
        activity_line(
            "H06",
            "transport",
            "Container shipping Shanghai to Port Klang, 3 800 km",
            "freight",
            "out_of_scope",
            "12160",
            "t.km",
            quote_factor(ill, "sea-container", digests),
        ),
    ]
    extra = [{"scheme": "ecode", "value": "10012345678900042"}]
    return carbon_record(
        CR_HX,
        HX_HANDLE,
        HX_IFC,
        "Titanium-lined shell-and-tube heat exchanger HX-0042",
        "8419",
        "3200",
        ["raw_material", mst, "transport"],
        lines,
        extra,
        "2026-01-26T08:00:00Z",
    )
