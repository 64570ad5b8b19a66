"""Shared pieces of the example region rule knowledge base (region-rule schema 2).

Record ids, the sources the rules cite, the product-defined risk bands and the
suggestions per level, and two factor sets the illustrative regions rely on. Each
cited figure says where it comes from (`source`) and whether it is `official` (read
in the legal text or a transcription of it) or `illustrative` (unverified, or a
stand-in with no publisher); docs/RECORDS.md §5 lists them.
"""

from __future__ import annotations

from typing import Any

from ledger.examples.factors import reference_record

RULE_XB_EU = "urn:carbonledger:region-rule:eu-cbam-2026-iron-steel-kb"
RULE_XB_UK = "urn:carbonledger:region-rule:uk-cbam-2027-iron-steel-kb"
RULE_XB_SEA = "urn:carbonledger:region-rule:sea-manufacturing-only-kb"
RULE_XB_NA = "urn:carbonledger:region-rule:north-america-procurement-kb"
RULE_XB_ME = "urn:carbonledger:region-rule:middle-east-process-plant-kb"
RULE_XB_OC = "urn:carbonledger:region-rule:oceania-procurement-kb"
FS_XB_GRIDS = "urn:carbonledger:factor-set:illustrative-regional-grids-2024"
FS_XB_MATERIALS = "urn:carbonledger:factor-set:example-anticorrosion-materials-2026"

ISSUED = "2026-02-10T00:00:00Z"

# Sources every rule may cite; each rule lists those it cites.
SOURCES: dict[str, dict[str, str]] = {
    "product-definition": {
        "title": "carbonledger product definition: cross-border compliance of exported "
        "anti-corrosion equipment (warning levels, regional examples)",
        "reference": "The three warning levels (blue, yellow 10-30 % above the regional "
        "baseline, red above the access threshold or boundary not alignable before the "
        "declaration deadline) and the regional examples; product-defined, not law",
        "provenance": "primary",
    },
    "illustrative": {
        "title": "carbonledger illustrative figure",
        "reference": "No publisher: a stand-in for demonstration and tests until a sourced "
        "value is imported. Never report it as official",
        "provenance": "none",
    },
    "iaf-mla": {
        "title": "IAF Multilateral Recognition Arrangement, ISO 14065 validation and "
        "verification bodies",
        "reference": "Accreditation bodies signatory to the IAF MLA for ISO 14065 "
        "(illustrative: signatory status per body not checked)",
        "provenance": "none",
        "url": "https://iaf.nu/",
    },
}


def sources(*ids: str, extra: dict[str, dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The `sources` member of a rule: the shared sources named, then ``extra``."""
    table = {**SOURCES, **(extra or {})}
    names = [*ids, *(extra or {})]
    return [{"id": name, **table[name]} for name in names]


def cited(source: str, status: str, **item: Any) -> dict[str, Any]:
    """An item of a rule with its citation: ``{..., source, status}``."""
    return {**item, "source": source, "status": status}


TANK_PRODUCT = "Reservoirs, tanks, vats and similar containers of iron or steel, over 300 L"
HX_PRODUCT = "Heat exchange units and other machinery for treating materials by temperature change"


def baseline(cn: str, product: str, value: str, threshold: str, **benchmark: str) -> dict[str, Any]:
    """An illustrative baseline entry (``benchmark="..."`` adds the free-allocation one)."""
    return cited(
        "illustrative",
        "illustrative",
        cn_code=cn,
        product=product,
        baseline=value,
        access_threshold=threshold,
        **benchmark,
    )


def risk_bands() -> dict[str, str]:
    return cited("product-definition", "illustrative", yellow_from_pct="10", yellow_to_pct="30")


def suggestions() -> dict[str, dict[str, str]]:
    """What the platform pushes at each level (product definition)."""
    return {
        "blue": {
            "en": "Optimise before the customs declaration: extend the maintenance cycle, "
            "switch to green cleaning agents, keep a standby nitrogen supply.",
            "zh": "报关前优化：延长维护周期，改用绿色清洗剂，配置备用氮气供应。",
        },
        "yellow": {
            "en": "Medium risk: rectify the anti-corrosion process toward low carbon, obtain "
            "supplementary emission-reduction certification, and apply for tariff relief "
            "with green certification material.",
            "zh": "中度风险：对防腐工艺进行低碳整改，补充减排认证，并凭绿色认证材料申请关税减免。",
        },
        "red": {
            "en": "High risk, the carbon label's export is locked: rectify urgently "
            "(low-carbon materials, bundled offsets) or switch the target region; "
            "non-compliant carbon documents cannot be submitted.",
            "zh": "高风险，碳标签出口已锁定：紧急整改（低碳材料、捆绑碳抵消）或临时切换目标市场；"
            "不合规的碳文件不得提交。",
        },
    }


def no_restricted_chemicals() -> dict[str, Any]:
    return {
        "catalogue": "none stated by this illustrative rule",
        "substances": [],
        "rectification": {
            "en": "No restricted-substance catalogue is stated for this region.",
            "zh": "本地区未列明受限物质目录。",
        },
    }


def iso14065(source: str, status: str, *bodies: str) -> list[dict[str, Any]]:
    return [cited(source, status, scheme="ISO 14065:2020", accreditation_bodies=list(bodies))]


def regional_grids_factor_set() -> dict[str, Any]:
    """Grid factors of two importing regions, quoted from secondary transcriptions; the
    GWP basis of each is not verified, so the set is illustrative."""
    return reference_record(
        "factor-set",
        FS_XB_GRIDS,
        "illustrative-regional-grids-2024",
        "2026-02-01T00:00:00Z",
        {
            "publisher": "carbonledger examples (quoting US EPA eGRID and Australian NGA)",
            "dataset": "Regional grid electricity factors quoted for the illustrative "
            "North-American and Oceanian rules",
            "version": "1",
            "year": 2024,
            "validity": {"from": "2024-01-01", "to": "2026-12-31"},
            "region": "XX",
            "source": {
                "url": "https://www.epa.gov/egrid",
                "file_sha256": None,
                "reference": "eGRID2023 (released 2025-01-15) US total output emission rate "
                "770.884 lb CO2e/MWh = 0.349667 kgCO2e/kWh; Australian National Greenhouse "
                "Accounts Factors 2024, national scope 2 0.63 kgCO2e/kWh (both secondary "
                "transcriptions)",
            },
            "license": "Public information (US EPA; Commonwealth of Australia)",
            "gwp_basis": "AR5",
            "status": "illustrative",
            "provenance": "secondary",
            "note": "Quoted values, not imported from the publishers' files; the GWP basis "
            "(AR5) is assumed, not verified.",
            "entries": [
                {
                    "id": "egrid-2023-us",
                    "activity": "electricity.grid",
                    "name": "Electricity, US national total output rate (eGRID2023)",
                    "unit": "kgCO2e/kWh",
                    "value": "0.349667",
                    "gwp_set": "AR5",
                },
                {
                    "id": "nga-2024-au",
                    "activity": "electricity.grid",
                    "name": "Electricity, Australia national scope 2 (NGA 2024)",
                    "unit": "kgCO2e/kWh",
                    "value": "0.63",
                    "gwp_set": "AR5",
                },
            ],
        },
    )


def materials_factor_set() -> dict[str, Any]:
    """Anti-corrosion materials, reagents, cleaning and waste-liquid treatment: fictional
    supplier declarations standing in for EPD figures nobody has sourced yet."""
    return reference_record(
        "factor-set",
        FS_XB_MATERIALS,
        "example-anticorrosion-materials-2026",
        "2026-02-01T00:00:00Z",
        {
            "publisher": "Example suppliers of the manufacturer (fictional)",
            "dataset": "Anti-corrosion materials, reagents, cleaning and waste-liquid "
            "treatment (supplier-declared, illustrative)",
            "version": "2026.1",
            "year": 2025,
            "validity": {"from": "2025-01-01", "to": "2026-12-31"},
            "region": "CN",
            "source": {
                "url": "https://example.com/anticorrosion-materials-2026",
                "file_sha256": None,
            },
            "license": "Confidential, shared with verifiers",
            "gwp_basis": "AR6",
            "status": "illustrative",
            "provenance": "none",
            "note": "Fictional values. Per-gas values are kg CO2e of each gas under AR6 "
            "(CH4 0.0837 = 0.003 kg x 27.9; N2O 0.0273 = 0.0001 kg x 273).",
            "entries": [
                {
                    "id": "epoxy-waterborne-low-carbon",
                    "activity": "material.coating.epoxy",
                    "name": "Waterborne epoxy coating, chromate-free, low-carbon formulation",
                    "unit": "kgCO2e/kg",
                    "value": "2.0110",
                    "gwp_set": "AR6",
                    "per_gas": {"CO2": "1.9000", "CH4": "0.0837", "N2O": "0.0273"},
                },
                {
                    "id": "passivation-chromate",
                    "activity": "material.reagent.passivation",
                    "name": "Chromate passivation concentrate (chromium(VI))",
                    "unit": "kgCO2e/kg",
                    "value": "3.2",
                    "gwp_set": "AR6",
                },
                {
                    "id": "passivation-trivalent",
                    "activity": "material.reagent.passivation",
                    "name": "Trivalent chromium passivation concentrate",
                    "unit": "kgCO2e/kg",
                    "value": "2.6",
                    "gwp_set": "AR6",
                },
                {
                    "id": "cleaning-alkaline",
                    "activity": "process.cleaning.chemical",
                    "name": "Periodic anti-corrosion cleaning, alkaline cleaning agent",
                    "unit": "kgCO2e/kg",
                    "value": "1.5",
                    "gwp_set": "AR6",
                },
                {
                    "id": "waste-liquid-treatment",
                    "activity": "waste.liquid.treatment",
                    "name": "Treatment of spent cleaning and passivation liquid",
                    "unit": "kgCO2e/m3",
                    "value": "12",
                    "gwp_set": "AR6",
                },
            ],
        },
    )


def knowledge_rule(
    rid: str, subject: str, body: dict[str, Any], refs: list[dict[str, Any]]
) -> dict[str, Any]:
    """A region-rule record of schema version 2."""
    record = reference_record("region-rule", rid, subject, ISSUED, body, refs)
    record["schema_version"] = "2"
    return record
