"""The two border levies of the knowledge base: EU CBAM (definitive period, 2026) and
UK CBAM (from 2027), for iron and steel goods (region-rule schema 2).

The EU rule's legal figures are transcriptions of the OJ texts (provenance secondary):
official where the text was read, illustrative where it was recalled and not checked
(the CBAM factor after 2026) or where no publisher exists (certificate price, baselines,
benchmarks, acceptable burden). The UK rule is illustrative throughout except its start:
its rates and scope were not confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.examples import rules
from ledger.examples.factors import FS_EU_CBAM_2026
from ledger.examples.knowledge import (
    RULE_XB_EU,
    RULE_XB_UK,
    TANK_PRODUCT,
    baseline,
    cited,
    iso14065,
    knowledge_rule,
    risk_bands,
    sources,
    suggestions,
)

# Annex I iron and steel goods of Chapter 73 (all of them also in Annex II: direct
# emissions only).
CHAPTER_73_GOODS = [
    *(f"73{n:02d}" for n in range(1, 12)),
    "7318",
    "7326",
]

_EU_SOURCES = {
    "eu-2023-956": {
        "title": "Regulation (EU) 2023/956 establishing a carbon border adjustment mechanism",
        "reference": "OJ L 130, 16.5.2023, CELEX 32023R0956: Art 7(1), Art 9 (carbon price "
        "paid in the country of origin), Annex I and II (goods, gases); secondary "
        "transcriptions of the OJ text",
        "provenance": "secondary",
        "url": "https://eur-lex.europa.eu/eli/reg/2023/956/oj",
    },
    "eu-2025-2083": {
        "title": "Regulation (EU) 2025/2083 (CBAM simplification)",
        "reference": "Art 2a and Annex VII: 50 t net mass per importer and calendar year; "
        "Art 6(1): annual declaration by 30 September of the following year; secondary",
        "provenance": "secondary",
    },
    "eu-2025-2620": {
        "title": "Implementing Regulation (EU) 2025/2620 (free allocation adjustment)",
        "reference": "Free allocation adjustment = CBAM benchmark x CBAM factor of the year "
        "x quantity of goods; secondary",
        "provenance": "secondary",
    },
    "eu-2023-959": {
        "title": "Directive (EU) 2023/959 amending Directive 2003/87/EC, Art 10a(1a)",
        "reference": "CBAM factor (share of free allocation still granted): 97.5 % in 2026 "
        "(secondary, confirmed by a worked example); later years recalled, to be "
        "confirmed against the OJ text",
        "provenance": "secondary",
    },
    "eu-2025-2621": {
        "title": "Implementing Regulation (EU) 2025/2621 (default values), Annex II",
        "reference": "Electricity emission factors for indirect emissions; 'other countries' "
        "row for a country not listed; secondary",
        "provenance": "secondary",
        "url": "https://eur-lex.europa.eu/eli/reg_impl/2025/2621/oj",
    },
    "eu-verification": {
        "title": "CBAM verification: Art 18 of Regulation (EU) 2023/956, Delegated "
        "Regulation (EU) 2025/2551",
        "reference": "Verifiers accredited to EN ISO 14065 by national accreditation bodies "
        "(Regulation (EC) No 765/2008); secondary",
        "provenance": "secondary",
    },
    "eu-reach-annex-xiv": {
        "title": "Regulation (EC) No 1907/2006 (REACH), Annex XIV (Authorisation List)",
        "reference": "Chromium(VI) entries added by Commission Regulation (EU) No 348/2013 "
        "(sunset date 21 September 2017); Annex XIV governs use in the EU, and EU buyers "
        "screen imported articles for these substances; secondary",
        "provenance": "secondary",
    },
}

_CHROMATES_348_2013 = (
    ("1333-82-0", "Chromium trioxide"),
    ("7789-12-0", "Sodium dichromate (dihydrate)"),
    ("10588-01-9", "Sodium dichromate"),
    ("7778-50-9", "Potassium dichromate"),
    ("7789-09-5", "Ammonium dichromate"),
    ("7789-00-6", "Potassium chromate"),
    ("7775-11-3", "Sodium chromate"),
)
# Chromate pigments of anti-corrosion primers, believed to be Annex XIV entries; the
# entries were not checked, so they are illustrative.
_CHROMATE_PIGMENTS = (
    ("7789-06-2", "Strontium chromate"),
    ("7758-97-6", "Lead chromate"),
)

_CHROMATE_RECTIFICATION = {
    "en": "Replace chromium(VI) primers and passivation with chromate-free systems (zinc "
    "phosphate primers, trivalent chromium or zirconium passivation) and record the new "
    "substances by CAS number.",
    "zh": "以无铬体系替代六价铬底漆和钝化工艺（磷酸锌底漆、三价铬或锆系钝化），"
    "并按CAS号记录新物质。",
}


def _restricted(source: str, official: bool) -> dict[str, Any]:
    status = "official" if official else "illustrative"
    substances = [
        cited(source, status, cas=cas, name=name, legal_ref="Annex XIV, Reg. (EU) 348/2013")
        for cas, name in _CHROMATES_348_2013
    ]
    substances += [
        cited(source, "illustrative", cas=cas, name=name, legal_ref="Annex XIV (not checked)")
        for cas, name in _CHROMATE_PIGMENTS
    ]
    return {
        "catalogue": "REACH Annex XIV (Authorisation List), chromium(VI) compounds",
        "substances": substances,
        "rectification": _CHROMATE_RECTIFICATION,
    }


def _cbam_required_data(official: bool) -> list[dict[str, Any]]:
    status = "official" if official else "illustrative"
    source = "eu-2023-956" if official else "illustrative"
    return [
        cited(
            source,
            status,
            key="precursor-communication",
            what="Specific embedded emissions of every precursor, as the supplier "
            "communicated them (actual values, not defaults)",
            lines="each",
            where={"channel": "precursor"},
            evidence=True,
            lead_time_days=60,
            rectification={
                "en": "Give each precursor line primary data with the supplier's emissions "
                "communication attached as evidence.",
                "zh": "为每条前体材料数据行提供一手数据，并附供应商排放数据通报作为证据。",
            },
        ),
        cited(
            "product-definition",
            "illustrative",
            key="periodic-cleaning",
            what="Carbon data of the periodic anti-corrosion cleaning over the design life",
            lines="some",
            where={"stage": "operation_maintenance", "activity": "process.cleaning"},
            evidence=False,
            lead_time_days=45,
            rectification={
                "en": "Supply the periodic anti-corrosion cleaning over the design life "
                "(cleaning agent and energy per cleaning, cleaning interval) as "
                "operation-and-maintenance lines.",
                "zh": "补充设计寿命期内定期防腐清洗的碳数据（每次清洗的清洗剂与能耗、清洗周期），"
                "作为运维阶段数据行。",
            },
        ),
        cited(
            "product-definition",
            "illustrative",
            key="waste-liquid-treatment",
            what="Carbon data of the treatment of spent cleaning and passivation liquid",
            lines="some",
            where={"activity": "waste.liquid"},
            evidence=False,
            lead_time_days=45,
            rectification={
                "en": "Supply the treatment of spent cleaning and passivation liquid (volume "
                "and treatment route).",
                "zh": "补充废清洗液与钝化废液处理的碳数据（体积及处理方式）。",
            },
        ),
    ]


def eu_cbam_kb_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    """EU CBAM, definitive period 2026, iron and steel goods of Chapter 73."""
    body = dict(rules.eu_cbam_rule(digests)["body"])
    body["notes"] = (
        "Knowledge-base edition of the EU CBAM rule for Annex II iron and steel goods. "
        "Required data 'periodic-cleaning' and 'waste-liquid-treatment' lie outside the "
        "CBAM boundary: EU buyers ask for them with the product footprint (product "
        "definition), so they are listed, illustrative, and do not change the figure."
    )
    official, ill = "official", "illustrative"
    body.update(
        {
            "status": ill,
            "sources": sources("product-definition", "illustrative", "iaf-mla", extra=_EU_SOURCES),
            "gases": cited("eu-2023-956", official, covered=["CO2"]),
            "mandatory_factors": [
                cited(
                    "eu-2025-2621",
                    official,
                    activity="electricity.grid",
                    set=FS_EU_CBAM_2026,
                    entry="annex-ii-other",
                )
            ],
            "required_data": _cbam_required_data(official=True),
            "accreditation": iso14065(
                "eu-verification", official, "DAkkS", "COFRAC", "ACCREDIA", "ENAC", "RvA"
            ),
            "restricted_chemicals": _restricted("eu-reach-annex-xiv", official=True),
            "declaration": cited(
                "eu-2025-2083",
                official,
                deadline={"kind": "annual", "year_offset": 1, "month": 9, "day": 30},
            ),
            "tariff": {
                "instrument": "CBAM certificates (one certificate per tonne of CO2e)",
                "currency": "EUR",
                "goods": cited("eu-2023-956", official, cn_codes=CHAPTER_73_GOODS),
                "price": cited("illustrative", ill, value="80.00", date="2026-01-02"),
                "free_allocation": [
                    cited("eu-2023-959", official if year == 2026 else ill, year=year, share=s)
                    for year, s in (
                        (2026, "0.975"),
                        (2027, "0.95"),
                        (2028, "0.90"),
                        (2029, "0.775"),
                        (2030, "0.515"),
                        (2031, "0.39"),
                        (2032, "0.265"),
                        (2033, "0.14"),
                        (2034, "0"),
                    )
                ],
                "origin_price_deduction": cited("eu-2023-956", official, allowed=True),
                "de_minimis": cited(
                    "eu-2025-2083",
                    official,
                    threshold="50",
                    unit="t",
                    basis="net mass of CBAM goods per importer and calendar year (not "
                    "for electricity or hydrogen)",
                ),
                "acceptable_burden_per_t": cited("illustrative", ill, value="100"),
                "rounding": {"mode": "ROUND_HALF_EVEN", "places": 2},
            },
            "baselines": [
                baseline("7309", TANK_PRODUCT, "2.20", "2.80", benchmark="1.370"),
                baseline(
                    "7308",
                    "Structures and parts of structures of iron or steel",
                    "2.00",
                    "2.50",
                    benchmark="1.370",
                ),
            ],
            "risk_bands": risk_bands(),
            "suggestions": suggestions(),
        }
    )
    links = [{"rel": "factor-set", "id": FS_EU_CBAM_2026, "digest": digests[FS_EU_CBAM_2026]}]
    return knowledge_rule(RULE_XB_EU, "eu-cbam-2026-iron-steel-kb", body, links)


_UK_SOURCES = {
    "uk-cbam-policy": {
        "title": "UK CBAM policy (HM Treasury / HMRC), Finance Bill 2025-26",
        "reference": "From 1 January 2027: aluminium, cement, fertiliser, hydrogen, iron and "
        "steel; liability = embodied emissions x UK CBAM rate - carbon price paid "
        "overseas; GBP 50,000 12-month threshold. Secondary; rates and scope not "
        "confirmed",
        "provenance": "secondary",
    },
}


def uk_cbam_kb_rule(digests: Mapping[str, str]) -> dict[str, Any]:
    """UK CBAM from 2027 for iron and steel goods: illustrative (not confirmed)."""
    eu = rules.eu_cbam_rule(digests)["body"]
    basis = "UK CBAM (illustrative reading): embodied emissions of the production process"
    body: dict[str, Any] = {
        "region": "GB",
        "regime": "UK-CBAM",
        "regime_version": "2027",
        "stages": [{"stage": s["stage"], "legal_ref": basis} for s in eu["stages"]],
        "excluded_stages": [
            {"stage": s["stage"], "legal_ref": basis} for s in eu["excluded_stages"]
        ],
        "channels": [{"channel": c["channel"], "legal_ref": basis} for c in eu["channels"]],
        "excluded_channels": [
            {"channel": c["channel"], "legal_ref": basis} for c in eu["excluded_channels"]
        ],
        "factor_sets": [],
        "gwp_set": "AR5",
        "rounding": {"mode": "ROUND_HALF_EVEN", "places": 6},
        "output_unit": "tCO2e/t",
        "template": "uk-cbam-return-illustrative",
        "notes": "Illustrative: the UK CBAM rate, scope and boundary were not confirmed. "
        "The UK CBAM rate is modelled as the stated price with no free allocation.",
    }
    ill = "illustrative"
    body.update(
        {
            "status": ill,
            "sources": sources("product-definition", "illustrative", extra=_UK_SOURCES),
            "gases": cited("uk-cbam-policy", ill, covered=["CO2"]),
            "mandatory_factors": [],
            "required_data": _cbam_required_data(official=False)[:1],
            "accreditation": iso14065("uk-cbam-policy", ill, "UKAS"),
            "restricted_chemicals": {
                **_restricted("illustrative", official=False),
                "catalogue": "UK REACH Annex XIV (retained), chromium(VI) compounds "
                "(illustrative: not checked against the UK list)",
            },
            "declaration": cited(
                "uk-cbam-policy",
                ill,
                deadline={"kind": "annual", "year_offset": 1, "month": 5, "day": 31},
            ),
            "tariff": {
                "instrument": "UK CBAM liability at the UK CBAM rate",
                "currency": "GBP",
                "goods": cited("uk-cbam-policy", ill, cn_codes=CHAPTER_73_GOODS),
                "price": cited("illustrative", ill, value="60.00", date="2026-01-02"),
                "free_allocation": [cited("illustrative", ill, year=2027, share="0")],
                "origin_price_deduction": cited("uk-cbam-policy", ill, allowed=True),
                "de_minimis": cited(
                    "uk-cbam-policy",
                    ill,
                    threshold="50000",
                    unit="GBP",
                    basis="value of CBAM goods imported over 12 months",
                ),
                "acceptable_burden_per_t": cited("illustrative", ill, value="100"),
                "rounding": {"mode": "ROUND_HALF_EVEN", "places": 2},
            },
            "baselines": [baseline("7309", TANK_PRODUCT, "2.20", "2.80")],
            "risk_bands": risk_bands(),
            "suggestions": suggestions(),
        }
    )
    return knowledge_rule(RULE_XB_UK, "uk-cbam-2027-iron-steel-kb", body, [])
