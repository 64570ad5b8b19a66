"""Example region rules and the rating rule (reference data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.examples.factors import (
    FS_CN_MEE_2023,
    FS_DESNZ_2025,
    FS_EU_CBAM_2026,
    RULE_EU_CBAM,
    RULE_RATING,
    RULE_SEA,
    RULE_UK,
    reference_record,
)


def eu_cbam_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    production = (
        "outside the production process: Reg. (EU) 2023/956 Annex IV (embedded "
        "emissions are those released during production of goods)"
    )
    return reference_record(
        "region-rule",
        RULE_EU_CBAM,
        "eu-cbam-definitive-2026-iron-steel",
        "2026-01-21T00:00:00Z",
        {
            "region": "EU",
            "regime": "EU-CBAM-definitive",
            "regime_version": "2026",
            "stages": [
                {
                    "stage": "raw_material",
                    "legal_ref": "IR (EU) 2025/2547 Art 3(2): embedded emissions of any precursor",
                },
                {
                    "stage": "manufacturing_surface_treatment",
                    "legal_ref": "Reg. (EU) 2023/956 Art "
                    "7(1), Annex IV: attributed emissions of the production process",
                },
            ],
            "excluded_stages": [
                {
                    "stage": "transport",
                    "legal_ref": "IR (EU) 2025/2547 Annex II B.1(c): emissions "
                    "from mobile machinery for transportation purposes are excluded",
                },
                {"stage": "operation_maintenance", "legal_ref": production},
                {"stage": "end_of_life", "legal_ref": production},
            ],
            "channels": [
                {
                    "channel": "direct",
                    "legal_ref": "Reg. (EU) 2023/956 Art 7(1): for goods listed "
                    "in Annex II only direct emissions",
                },
                {"channel": "precursor", "legal_ref": "IR (EU) 2025/2547 Art 3(2); Annex I pt 3.1"},
            ],
            "excluded_channels": [
                {
                    "channel": "indirect",
                    "legal_ref": "Reg. (EU) 2023/956 Art 7(1) and Annex II: "
                    "CN 7301-7311 are direct-emissions-only goods",
                },
                {
                    "channel": "out_of_scope",
                    "legal_ref": "Reg. (EU) 2023/956 Annex I: not a CBAM "
                    "good, so not a relevant precursor",
                },
            ],
            "factor_sets": [{"id": FS_EU_CBAM_2026, "digest": digests[FS_EU_CBAM_2026]}],
            "gwp_set": "AR5",
            "rounding": {"mode": "ROUND_HALF_EVEN", "places": 6},
            "output_unit": "tCO2e/t",
            "template": "eu-cbam-communication-2024-12",
            "notes": "For Annex II iron and steel goods (CN 7301-7311, 7318, 7326). Legal "
            "references are secondary transcriptions of the OJ texts. The GWP set "
            "CBAM uses is not verified (believed AR5); it has no effect on CO2-only lines.",
        },
        [{"rel": "factor-set", "id": FS_EU_CBAM_2026, "digest": digests[FS_EU_CBAM_2026]}],
    )


def uk_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    basis = (
        "UK DESNZ conversion factors 2025 applied to a full life cycle (ISO 14067 / GHG "
        "Protocol Product Standard, cradle to grave), as the buyer's disclosure requires"
    )
    return reference_record(
        "region-rule",
        RULE_UK,
        "uk-desnz-2025-full-lifecycle",
        "2026-01-21T00:00:00Z",
        {
            "region": "GB",
            "regime": "UK product footprint, DESNZ 2025 factors",
            "regime_version": "2025",
            "stages": [
                {"stage": s, "legal_ref": basis}
                for s in (
                    "raw_material",
                    "manufacturing_surface_treatment",
                    "transport",
                    "operation_maintenance",
                    "end_of_life",
                )
            ],
            "excluded_stages": [],
            "channels": [
                {"channel": c, "legal_ref": basis}
                for c in ("direct", "indirect", "precursor", "out_of_scope")
            ],
            "excluded_channels": [],
            "factor_sets": [{"id": FS_DESNZ_2025, "digest": digests[FS_DESNZ_2025]}],
            "gwp_set": "AR5",
            "rounding": {"mode": "ROUND_HALF_EVEN", "places": 1},
            "output_unit": "kgCO2e",
            "template": "uk-product-footprint-v1",
            "notes": "DESNZ 2025 factors are on an AR5 basis (methodology paper 2025 §1.13-1.17).",
        },
        [{"rel": "factor-set", "id": FS_DESNZ_2025, "digest": digests[FS_DESNZ_2025]}],
    )


def sea_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    template = (
        "illustrative South-East Asian style template: manufacturing stage only "
        "(gate to gate); no specific national law is cited"
    )
    return reference_record(
        "region-rule",
        RULE_SEA,
        "sea-manufacturing-only-template",
        "2026-01-21T00:00:00Z",
        {
            "region": "SEA",
            "regime": "SEA manufacturing-only (illustrative template)",
            "regime_version": "1",
            "stages": [{"stage": "manufacturing_surface_treatment", "legal_ref": template}],
            "excluded_stages": [
                {"stage": s, "legal_ref": template}
                for s in ("raw_material", "transport", "operation_maintenance", "end_of_life")
            ],
            "channels": [
                {"channel": c, "legal_ref": template}
                for c in ("direct", "indirect", "precursor", "out_of_scope")
            ],
            "excluded_channels": [],
            "factor_sets": [{"id": FS_CN_MEE_2023, "digest": digests[FS_CN_MEE_2023]}],
            "gwp_set": "AR5",
            "rounding": {"mode": "ROUND_HALF_UP", "places": 0},
            "output_unit": "kgCO2e",
            "template": "sea-gate-to-gate-v1",
            "notes": "Uses the producer country's official grid factor for the plant's regional "
            "grid (the conversion chooses the entry per line).",
        },
        [{"rel": "factor-set", "id": FS_CN_MEE_2023, "digest": digests[FS_CN_MEE_2023]}],
    )


def rating_rule() -> dict[str, Any]:
    dims = [
        ("lifecycle_anticorrosion_compliance", "Whole-lifecycle anti-corrosion compliance", "0.30"),
        ("dynamic_carbon_governance", "Dynamic carbon governance performance", "0.25"),
        ("green_anticorrosion_materials", "Green anti-corrosion materials", "0.20"),
        ("low_carbon_technical_investment", "Low-carbon technical investment", "0.15"),
        ("industrial_social_responsibility", "Industrial social responsibility", "0.10"),
    ]
    bands = [("AAA", "90"), ("AA", "80"), ("A", "70"), ("B", "60"), ("C", "0")]
    return reference_record(
        "rating-rule",
        RULE_RATING,
        "low-carbon-credit-v1",
        "2026-01-21T00:00:00Z",
        {
            "scheme": "Low-carbon credit rating of anti-corrosion equipment enterprises "
            "(product-defined; no external standard)",
            "version": "1.0.0",
            "score_range": {"min": "0", "max": "100"},
            "dimensions": [{"key": k, "name": n, "weight": w} for k, n, w in dims],
            "bands": [{"grade": g, "min_inclusive": m} for g, m in bands],
            "rounding": {"mode": "ROUND_HALF_EVEN", "places": 2},
            "c_grade": {"warning_list": True, "rectification_days": 180},
        },
    )
