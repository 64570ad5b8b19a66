"""Example records of the cross-border workflow: the region rule knowledge base, a
carbon record of schema version 3 (coating and reagent lines with CAS numbers), risk
assessments of the tank and the exchanger for several regions, and an equivalence
declaration of the tank's EU conversion.

The figures of the assessments are worked by hand in tests/vectors/crossborder/;
the equipment, documents and bodies are fictional.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from ledger.core.calc.lines import compute_carbon_totals
from ledger.core.crossborder import compose
from ledger.core.records import validate_record
from ledger.examples import (
    SUB_TANK_EU,
    cbam_rules,
    example_records,
    regional_rules,
    seeded_digest,
    substitution_record,
)
from ledger.examples import knowledge as kb
from ledger.examples.builder import (
    DigestOf,
    RecordBook,
    activity_line,
    document_hash,
    envelope,
    quote_factor,
)
from ledger.examples.equipment import CR_HX, CR_TANK
from ledger.examples.factors import FS_CN_MEE_2023

CR_TANK_XB = "urn:carbonledger:carbon-record:st-tk-0101-2026-chromate-primer"
RA_TANK_EU = "urn:carbonledger:risk-assessment:st-tk-0101-2026-eu-cbam"
RA_TANK_UK = "urn:carbonledger:risk-assessment:st-tk-0101-2027-uk-cbam"
RA_TANK_NA = "urn:carbonledger:risk-assessment:st-tk-0101-2026-north-america"
RA_TANK_ME = "urn:carbonledger:risk-assessment:st-tk-0101-2026-middle-east"
RA_HX_SEA = "urn:carbonledger:risk-assessment:ti-hx-0042-2026-sea"
SUB_HX_ME = "urn:carbonledger:factor-substitution:ti-hx-0042-middle-east-maintenance-added"
SUB_TANK_EU_SHARED = "urn:carbonledger:factor-substitution:st-tk-0101-eu-cbam-2026-batch-share"
ED_TANK_EU = "urn:carbonledger:equivalence-declaration:st-tk-0101-eu-cbam-2026"

PRODUCER_ASSESSOR = "urn:carbonledger:producer:crossborder-assessment-service"
PRODUCER_BODY = "urn:carbonledger:producer:example-verification-body"

Add = Callable[[dict[str, Any]], dict[str, Any]]


def _link(record: Mapping[str, Any], digests: Mapping[str, str]) -> dict[str, str]:
    return {"id": record["id"], "digest": digests[record["id"]]}


def chromate_primer_tank_record(
    tank: Mapping[str, Any], digests: Mapping[str, str]
) -> dict[str, Any]:
    """The storage tank as a schema-3 record: its coating system declares a strontium
    chromate primer and its flange bolts get a chromate passivation (line L09)."""
    materials = kb.materials_factor_set()
    record = copy.deepcopy(dict(tank))
    record.update(
        schema_version="3",
        id=CR_TANK_XB,
        issued_at="2026-02-15T08:00:00Z",
        refs=[*record["refs"], {"rel": "factor-set", **_link(materials, digests)}],
    )
    body = record["body"]
    body["lines"][1]["substances"] = [
        {"cas": "25068-38-6", "name": "Bisphenol A-epichlorohydrin polymer (epoxy resin)"},
        {"cas": "7789-06-2", "name": "Strontium chromate (primer pigment)"},
        {"cas": "7779-90-0", "name": "Zinc phosphate"},
    ]
    passivation = activity_line(
        "L09",
        "manufacturing_surface_treatment",
        "Chromate passivation of the galvanised flange bolts",
        "purchased_material",
        "out_of_scope",
        "12",
        "kg",
        quote_factor(materials, "passivation-chromate", digests),
    )
    passivation["substances"] = [{"cas": "1333-82-0", "name": "Chromium trioxide"}]
    body["lines"].append(passivation)
    body["totals"] = compute_carbon_totals(validate_record(record))
    return record


def low_carbon_coating_tank_record(
    tank: Mapping[str, Any], digests: Mapping[str, str], *, issued_at: str, rid: str
) -> dict[str, Any]:
    """The tank rectified: its coating system (lines L02 and L07) is a waterborne
    low-carbon epoxy; a new carbon record of the same subject."""
    materials = kb.materials_factor_set()
    record = copy.deepcopy(dict(tank))
    links = [r for r in record["refs"] if r["rel"] != "supersedes"]
    record.update(
        id=rid,
        issued_at=issued_at,
        refs=[*links, {"rel": "factor-set", **_link(materials, digests)}],
    )
    for line in record["body"]["lines"]:
        if line["factor"]["activity"] == "material.coating.epoxy":
            line["factor"] = quote_factor(materials, "epoxy-waterborne-low-carbon", digests)
            line["process"] = "Waterborne low-carbon epoxy coating system (primer and topcoat)"
    record["body"]["totals"] = compute_carbon_totals(validate_record(record))
    return record


def assessment_record(
    rid: str,
    issued_at: str,
    source: Mapping[str, Any],
    rule: Mapping[str, Any],
    sets: Sequence[Mapping[str, Any]],
    digests: Mapping[str, str],
    *,
    import_date: str,
    choices: Mapping[str, tuple[str, str]] | None = None,
    origin_price: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A risk-assessment record computed with calc/1 from its inputs."""
    return compose.assessment_record(
        rid,
        issued_at,
        PRODUCER_ASSESSOR,
        validate_record(source),
        validate_record(rule),
        [validate_record(s) for s in sets],
        digests,
        import_date=date.fromisoformat(import_date),
        choices=choices,
        origin_price=origin_price,
    )


def equivalence_declaration(
    conversion: Mapping[str, Any], region: str, digests: Mapping[str, str]
) -> dict[str, Any]:
    """The declaration of a conversion, signed by an accredited body (fictional files)."""
    base = conversion["id"].rsplit(":", 1)[1]
    documents = [
        {
            "name": f"{base}-equivalence-declaration.{ext}",
            "media_type": media_type,
            "size": size,
            "sha256": document_hash(f"{base}-equivalence-declaration.{ext}"),
            "languages": ["en", "zh"],
        }
        for ext, media_type, size in (
            ("pdf", "application/pdf", 48213),
            ("html", "text/html", 21877),
        )
    ]
    body = {
        "conversion": _link(conversion, digests),
        "region": region,
        "documents": documents,
        "signing_body": {
            "name": "Example Verification Body Co., Ltd. (fictional)",
            "scheme": "ISO 14065:2020",
            "accreditation_body": "CNAS",
            "accreditation_number": "CNAS-EXAMPLE-0001",
        },
    }
    refs = [{"rel": "source", **_link(conversion, digests)}]
    return envelope(
        "equivalence-declaration",
        ED_TANK_EU,
        conversion["subject"],
        "2026-02-25T10:00:00Z",
        PRODUCER_BODY,
        body,
        refs,
    )


def maintenance_supplements(digests: Mapping[str, str]) -> list[dict[str, Any]]:
    """Operation-and-maintenance lines the exporter supplies for the heat exchanger,
    whose record stops at the port: periodic cleaning and its waste liquid."""
    materials = kb.materials_factor_set()
    stage, channel = "operation_maintenance", "out_of_scope"
    return [
        activity_line(
            "S01",
            stage,
            "Periodic alkaline cleaning over the 25-year design life (100 x 0.4 kg)",
            "purchased_material",
            channel,
            "40",
            "kg",
            quote_factor(materials, "cleaning-alkaline", digests),
            "maintenance plan HX-0042-MP-2026",
        ),
        activity_line(
            "S02",
            stage,
            "Treatment of the spent cleaning liquid (100 x 20 L)",
            "waste_treatment",
            channel,
            "2",
            "m3",
            quote_factor(materials, "waste-liquid-treatment", digests),
            "maintenance plan HX-0042-MP-2026",
        ),
    ]


# The tank's manufacturing lines were metered for its whole production batch.
BATCH_SHARE = {
    "stage": "manufacturing_surface_treatment",
    "key": "mass",
    "product_kg": "12500",
    "total_kg": "40000",
    "basis": "Furnace and blasting hall metered for batch B-2025-07: tanks T-101 and T-102 "
    "(12.5 t each) and a 15 t column",
}


def add_crossborder(
    add: Add, digests: dict[str, str], records: Mapping[str, dict[str, Any]]
) -> None:
    """Add the knowledge base, the schema-3 tank, the assessments, the declaration and
    the schema-3 conversions; ``records`` holds the example records they rest on
    (example_records())."""
    grids = add(kb.regional_grids_factor_set())
    add(kb.materials_factor_set())
    eu = add(cbam_rules.eu_cbam_kb_rule(digests))
    uk = add(cbam_rules.uk_cbam_kb_rule(digests))
    sea = add(regional_rules.sea_kb_rule(digests))
    na = add(regional_rules.north_america_kb_rule(digests))
    me = add(regional_rules.middle_east_kb_rule(digests))
    add(regional_rules.oceania_kb_rule(digests))
    tank, hx = records[CR_TANK], records[CR_HX]
    tank_xb = add(chromate_primer_tank_record(tank, digests))
    eu_sets = [records[s["id"]] for s in eu["body"]["factor_sets"]]
    at = "2026-02-20T09:00:00Z"
    add(assessment_record(RA_TANK_EU, at, tank_xb, eu, eu_sets, digests, import_date="2026-06-01"))
    add(assessment_record(RA_TANK_UK, at, tank, uk, [], digests, import_date="2027-03-01"))
    add(assessment_record(RA_TANK_NA, at, tank, na, [grids], digests, import_date="2026-06-01"))
    add(assessment_record(RA_TANK_ME, at, tank, me, [], digests, import_date="2026-03-10"))
    add(
        assessment_record(
            RA_HX_SEA,
            at,
            hx,
            sea,
            [records[FS_CN_MEE_2023]],
            digests,
            import_date="2026-04-15",
            choices={"H03": (FS_CN_MEE_2023, "cn-2023-east")},
        )
    )
    add(equivalence_declaration(records[SUB_TANK_EU], "EU", digests))
    add(
        substitution_record(
            SUB_HX_ME,
            "2026-02-22T09:00:00Z",
            hx,
            me,
            [],
            digests,
            supplements=maintenance_supplements(digests),
        )
    )
    add(
        substitution_record(
            SUB_TANK_EU_SHARED,
            "2026-02-22T09:05:00Z",
            tank,
            eu,
            eu_sets,
            digests,
            allocations=[BATCH_SHARE],
        )
    )


def crossborder_records(digest_of: DigestOf = seeded_digest) -> dict[str, dict[str, Any]]:
    """The example records and the cross-border ones, by id, references first; like
    example_records, ``digest_of`` is called once per record, in that order."""
    book = RecordBook(digest_of)
    base = example_records(lambda record: book.digests[book.add(record)["id"]])
    add_crossborder(book.add, book.digests, base)
    return book.records
