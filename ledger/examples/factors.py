"""Example factor sets (reference data).

Figures come from the publications named in each record's ``source`` and
``note``, read either in the publisher's own file (provenance "primary") or in a
third party's transcription (provenance "secondary"); docs/RECORDS.md §5 lists
them. Where no sourced figure exists, the factor set says so by its ``status``
("supplier-declared" or "illustrative").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.examples.builder import envelope

PRODUCER_REFDATA = "urn:carbonledger:producer:reference-data-desk"

FS_CN_MEE_2023 = "urn:carbonledger:factor-set:cn-mee-nbs-2023-grid"
FS_IPCC_2006 = "urn:carbonledger:factor-set:ipcc-2006-stationary-combustion"
FS_DESNZ_2025 = "urn:carbonledger:factor-set:desnz-2025"
FS_SUPPLIER = "urn:carbonledger:factor-set:example-supplier-declarations-2025"
FS_ILLUSTRATIVE = "urn:carbonledger:factor-set:illustrative-logistics-eol"
FS_EU_CBAM_2026 = "urn:carbonledger:factor-set:eu-cbam-2026-electricity-defaults"
RULE_EU_CBAM = "urn:carbonledger:region-rule:eu-cbam-definitive-2026-iron-steel"
RULE_UK = "urn:carbonledger:region-rule:uk-desnz-2025-full-lifecycle"
RULE_SEA = "urn:carbonledger:region-rule:sea-manufacturing-only-template"
RULE_RATING = "urn:carbonledger:rating-rule:low-carbon-credit-v1"


def reference_record(
    rtype: str,
    rid: str,
    subject: str,
    issued_at: str,
    body: dict[str, Any],
    refs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A reference-data record (factor set, region rule, rating rule) of the desk."""
    return envelope(rtype, rid, subject, issued_at, PRODUCER_REFDATA, body, refs or [])


def _entry(
    eid: str,
    activity: str,
    name: str,
    unit: str,
    value: str,
    gwp: str | None,
    per_gas: Mapping[str, str] | None = None,
    **extra: str,
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": eid,
        "activity": activity,
        "name": name,
        "unit": unit,
        "value": value,
        "gwp_set": gwp,
    }
    if per_gas:
        e["per_gas"] = dict(per_gas)
    e.update(extra)
    return e


def cn_mee_2023_factor_set() -> dict[str, Any]:
    """China's 2023 grid CO2 factors (MEE/NBS notice), national and regional."""
    regions = [
        ("north", "North China", "0.6361"),
        ("northeast", "Northeast China", "0.5122"),
        ("east", "East China", "0.5500"),
        ("central", "Central China", "0.5271"),
        ("northwest", "Northwest China", "0.5543"),
        ("south", "South China", "0.4042"),
        ("southwest", "Southwest China", "0.2472"),
    ]
    entries = [
        _entry(
            "cn-2023-national",
            "electricity.grid",
            "Electricity, national grid average, 2023",
            "kgCO2/kWh",
            "0.5306",
            None,
        )
    ]
    entries += [
        _entry(
            f"cn-2023-{key}",
            "electricity.grid",
            f"Electricity, {name} regional grid, 2023",
            "kgCO2/kWh",
            value,
            None,
        )
        for key, name, value in regions
    ]
    return reference_record(
        "factor-set",
        FS_CN_MEE_2023,
        "cn-mee-nbs-2023-grid",
        "2026-01-20T00:00:00Z",
        {
            "publisher": "Ministry of Ecology and Environment and National Bureau of "
            "Statistics of China",
            "dataset": "Notice on the 2023 electricity CO2 emission factors",
            "version": "2023",
            "year": 2023,
            "validity": {"from": "2023-01-01", "to": "2023-12-31"},
            "region": "CN",
            "source": {
                "url": "https://www.mee.gov.cn/",
                "file_sha256": None,
                "reference": "MEE/NBS notice on 2023 electricity CO2 emission factors, "
                "values as reported by Guangming Daily / China Electric Power "
                "News (secondary transcription)",
            },
            "license": "Government notice (public information)",
            "gwp_basis": None,
            "status": "official",
            "provenance": "secondary",
            "note": "CO2 only (kgCO2/kWh). The publisher's own file was not retrieved: file_sha256 "
            "is null until it is imported from the notice itself.",
            "entries": entries,
        },
    )


def ipcc_2006_factor_set() -> dict[str, Any]:
    return reference_record(
        "factor-set",
        FS_IPCC_2006,
        "ipcc-2006-stationary-combustion",
        "2026-01-20T00:00:00Z",
        {
            "publisher": "Intergovernmental Panel on Climate Change (IPCC)",
            "dataset": "2006 IPCC Guidelines, Vol. 2 Energy, Table 2.2 default CO2 emission "
            "factors for stationary combustion",
            "version": "2006",
            "year": 2006,
            "validity": {"from": "2006-01-01", "to": "9999-12-31"},
            "region": "XX",
            "source": {
                "url": "https://www.ipcc-nggip.iges.or.jp/public/2006gl/vol2.html",
                "file_sha256": None,
                "reference": "Vol. 2 Table 2.2 (secondary transcription)",
            },
            "license": "IPCC (reproduction with acknowledgement)",
            "gwp_basis": None,
            "status": "official",
            "provenance": "secondary",
            "note": "Net calorific value basis. 56 100 kg CO2/TJ = 56.1 kg CO2/GJ. Region XX: "
            "no specific country (default values).",
            "entries": [
                _entry(
                    "ng-default",
                    "fuel.natural_gas.ncv",
                    "Natural gas, stationary combustion",
                    "kgCO2/GJ",
                    "56.1",
                    None,
                ),
                _entry(
                    "diesel-default",
                    "fuel.diesel.ncv",
                    "Gas/diesel oil, stationary combustion",
                    "kgCO2/GJ",
                    "74.1",
                    None,
                ),
            ],
        },
    )


def desnz_2025_factor_set() -> dict[str, Any]:
    return reference_record(
        "factor-set",
        FS_DESNZ_2025,
        "desnz-2025",
        "2026-01-20T00:00:00Z",
        {
            "publisher": "UK Department for Energy Security and Net Zero (DESNZ)",
            "dataset": "Greenhouse gas reporting: conversion factors 2025 (flat file v1.0)",
            "version": "1.0",
            "year": 2025,
            "validity": {"from": "2025-01-01", "to": "2025-12-31"},
            "region": "GB",
            "source": {
                "url": "https://www.gov.uk/government/publications/"
                "greenhouse-gas-reporting-conversion-factors-2025",
                "file_sha256": None,
                "reference": "flat file v1.0, published 2025-06-10",
            },
            "license": "OGL-3.0",
            "gwp_basis": "AR5",
            "status": "official",
            "provenance": "primary",
            "note": "Per-gas values are kg CO2e of each gas (AR5) as published; they need not add "
            "up to the CO2e figure exactly. file_sha256 is null until the flat file is "
            "imported with its hash.",
            "entries": [
                _entry(
                    "7_400_4000_5_1",
                    "electricity.grid",
                    "Electricity generated, UK",
                    "kgCO2e/kWh",
                    "0.17700",
                    "AR5",
                    {"CO2": "0.17489", "CH4": "0.0009", "N2O": "0.00122"},
                ),
                _entry(
                    "13_402_4000_5_1",
                    "electricity.td_losses",
                    "Electricity T&D losses, UK",
                    "kgCO2e/kWh",
                    "0.01853",
                    "AR5",
                ),
                _entry(
                    "natural-gas-kwh-net-cv",
                    "fuel.natural_gas.ncv",
                    "Natural gas, kWh (net CV)",
                    "kgCO2e/kWh",
                    "0.20270",
                    "AR5",
                ),
                _entry(
                    "1_100_1004_1_1",
                    "fuel.natural_gas.volume",
                    "Natural gas, cubic metres",
                    "kgCO2e/m3",
                    "2.06672",
                    "AR5",
                    {"CO2": "2.0627"},
                ),
                _entry(
                    "1_101_1011_8_1",
                    "fuel.diesel.volume",
                    "Diesel (average biofuel blend)",
                    "kgCO2e/L",
                    "2.57082",
                    "AR5",
                ),
                _entry(
                    "27_304_3140_14_1",
                    "freight.road.hgv",
                    "HGV all diesel, all HGVs, average laden",
                    "kgCO2e/t.km",
                    "0.10163",
                    "AR5",
                ),
                _entry(
                    "27_320_3235_14_1",
                    "freight.sea.container",
                    "Container ship, average",
                    "kgCO2e/t.km",
                    "0.01612",
                    "AR5",
                ),
            ],
        },
    )


def supplier_factor_set() -> dict[str, Any]:
    return reference_record(
        "factor-set",
        FS_SUPPLIER,
        "example-supplier-declarations-2025",
        "2026-01-20T00:00:00Z",
        {
            "publisher": "Example suppliers of the manufacturer (fictional)",
            "dataset": "Supplier-declared embedded emissions of purchased materials",
            "version": "2025.1",
            "year": 2025,
            "validity": {"from": "2025-01-01", "to": "2025-12-31"},
            "region": "CN",
            "source": {
                "url": "https://example.com/supplier-declarations-2025",
                "file_sha256": None,
            },
            "license": "Confidential, shared with verifiers",
            "gwp_basis": "AR6",
            "status": "supplier-declared",
            "provenance": "supplier",
            "note": "Illustrative values standing in for real supplier declarations: no public "
            "sourced figure exists for titanium sheet or epoxy coating systems "
            "(no EPD or LCA figure was sourced). Per-gas values are kg CO2e of each gas "
            "under AR6 (CH4 0.2790 = 0.01 kg CH4 x 27.9; N2O 0.0546 = 0.0002 kg N2O x 273).",
            "entries": [
                _entry(
                    "steel-plate-hr-direct-see",
                    "material.steel.hot_rolled_plate",
                    "Hot-rolled steel plate, direct specific embedded emissions (CBAM "
                    "communication)",
                    "tCO2/t",
                    "1.850",
                    None,
                ),
                _entry(
                    "epoxy-coating-system",
                    "material.coating.epoxy",
                    "Epoxy anti-corrosion coating system, cradle to gate",
                    "kgCO2e/kg",
                    "5.2336",
                    "AR6",
                    {"CO2": "4.9000", "CH4": "0.2790", "N2O": "0.0546"},
                ),
                _entry(
                    "titanium-sheet-gr2",
                    "material.titanium.sheet",
                    "Titanium sheet Grade 2, cradle to gate",
                    "kgCO2e/kg",
                    "35.0",
                    "AR6",
                ),
            ],
        },
    )


def illustrative_factor_set() -> dict[str, Any]:
    return reference_record(
        "factor-set",
        FS_ILLUSTRATIVE,
        "illustrative-logistics-eol",
        "2026-01-20T00:00:00Z",
        {
            "publisher": "carbonledger examples",
            "dataset": "Illustrative logistics and end-of-life factors (not from any publisher)",
            "version": "1",
            "year": 2025,
            "validity": {"from": "2025-01-01", "to": "2025-12-31"},
            "region": "CN",
            "source": {"url": "https://example.com/illustrative", "file_sha256": None},
            "license": "CC0-1.0",
            "gwp_basis": "AR6",
            "status": "illustrative",
            "provenance": "none",
            "note": "Placeholders for demonstration and tests only. Never report these as "
            "official.",
            "entries": [
                _entry(
                    "road-hgv-cn",
                    "freight.road.hgv",
                    "Road freight, heavy truck, China",
                    "kgCO2e/t.km",
                    "0.1100",
                    "AR6",
                ),
                _entry(
                    "sea-container",
                    "freight.sea.container",
                    "Container ship, average",
                    "kgCO2e/t.km",
                    "0.0160",
                    "AR6",
                ),
                _entry(
                    "steel-dismantling",
                    "end_of_life.steel.dismantling",
                    "Dismantling and scrap handling of steel equipment",
                    "kgCO2e/t",
                    "25",
                    "AR6",
                ),
            ],
        },
    )


def eu_cbam_2026_factor_set() -> dict[str, Any]:
    return reference_record(
        "factor-set",
        FS_EU_CBAM_2026,
        "eu-cbam-2026-electricity-defaults",
        "2026-01-20T00:00:00Z",
        {
            "publisher": "European Commission",
            "dataset": "CBAM default values for the definitive period, Annex II of Implementing "
            "Regulation (EU) 2025/2621: electricity emission factors for indirect "
            "emissions",
            "version": "2025/2621",
            "year": 2026,
            "validity": {"from": "2026-01-01", "to": "2026-12-31"},
            "region": "EU",
            "source": {
                "url": "https://eur-lex.europa.eu/eli/reg_impl/2025/2621/oj",
                "file_sha256": None,
                "reference": "CELEX 32025R2621 Annex II (secondary "
                "transcription; check the EUR-Lex text before relying on it)",
            },
            "license": "IEA data, CC BY-NC-SA 4.0 (as stated in the annex)",
            "gwp_basis": None,
            "status": "official",
            "provenance": "secondary",
            "note": "China's value was not found in this pass; only the three rows below.",
            "entries": [
                _entry("annex-ii-au", "electricity.grid", "Australia", "tCO2/MWh", "0.645", None),
                _entry("annex-ii-br", "electricity.grid", "Brazil", "tCO2/MWh", "0.096", None),
                _entry(
                    "annex-ii-other",
                    "electricity.grid",
                    "Other countries",
                    "tCO2/MWh",
                    "0.465",
                    None,
                ),
            ],
        },
    )
