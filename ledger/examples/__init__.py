"""Realistic example records, one or more of each type, as pure functions.

Tests, vectors, the demo and the benchmarks build on these. Records refer to
each other by ``{id, digest}``; the digest of a record depends on its salts
(docs/FORMAT.md §2.2), so :func:`example_records` takes ``digest_of`` (record dict ->
lowercase hex) and builds the records in dependency order. Its default commits
each record with salts derived from the record id (:func:`seeded_digest`), so
the examples are reproducible; a service passes its real commitments instead.

Function names for pinning digests: every key of :func:`example_records`, and
:func:`example_of_each_type` for one record per type.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.core.crossborder import compose
from ledger.core.records import validate_record
from ledger.core.view import commit
from ledger.examples import equipment as eq
from ledger.examples import factors as ref
from ledger.examples import rules, trail
from ledger.examples.builder import DigestOf, RecordBook
from ledger.examples.equipment import (
    BIM_TANK_INSPECTION,
    CC_ENTERPRISE_2024,
    CC_ENTERPRISE_2025,
    CR_HX,
    CR_TANK,
    CR_TANK_REVISED,
)
from ledger.examples.factors import (
    FS_CN_MEE_2023,
    FS_DESNZ_2025,
    FS_EU_CBAM_2026,
    FS_ILLUSTRATIVE,
    FS_IPCC_2006,
    FS_SUPPLIER,
    RULE_EU_CBAM,
    RULE_RATING,
    RULE_SEA,
    RULE_UK,
)

SUB_TANK_EU = "urn:carbonledger:factor-substitution:st-tk-0101-eu-cbam-2026"
SUB_TANK_UK = "urn:carbonledger:factor-substitution:st-tk-0101-uk-desnz-2025"
SUB_HX_SEA = "urn:carbonledger:factor-substitution:ti-hx-0042-sea-manufacturing"


def seeded_digest(record: dict[str, Any]) -> str:
    """Digest v1 of ``record`` with salts derived from its id: reproducible
    examples only; real records draw random salts."""
    counter = iter(range(1_000_000))

    def salts(n: int) -> bytes:
        seed = f"{record['id']}#{next(counter)}".encode()
        return hashlib.sha256(b"carbonledger.example-salt\x00" + seed).digest()[:n]

    return commit(record, salt_source=salts).digest_hex


def substitution_record(
    rid: str,
    issued_at: str,
    source: dict[str, Any],
    rule: dict[str, Any],
    sets: list[dict[str, Any]],
    digests: dict[str, str],
    choices: dict[str, tuple[str, str]] | None = None,
    validity_exceptions: list[dict[str, Any]] | None = None,
    *,
    supplements: list[dict[str, Any]] | None = None,
    allocations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A factor-substitution record computed with calc/1 from its inputs; with
    ``validity_exceptions`` (why a factor set serves outside its validity) it is schema 2,
    with supplementary lines or an allocated stage schema 3."""
    return compose.substitution_record(
        rid,
        issued_at,
        "urn:carbonledger:producer:conversion-service",
        validate_record(source),
        validate_record(rule),
        [validate_record(s) for s in sets],
        digests,
        choices=choices,
        validity_exceptions=validity_exceptions,
        supplements=supplements,
        allocations=allocations,
    )


Add = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class ReferenceData:
    """The factor sets and rules the equipment records and conversions rest on."""

    cn: dict[str, Any]
    desnz: dict[str, Any]
    eu_sets: dict[str, Any]
    eu: dict[str, Any]
    uk: dict[str, Any]
    sea: dict[str, Any]


def add_reference_data(add: Add, digests: dict[str, str]) -> ReferenceData:
    """Add every factor set and rule, references first; ``add`` records each one's digest."""
    cn = add(ref.cn_mee_2023_factor_set())
    add(ref.ipcc_2006_factor_set())
    desnz = add(ref.desnz_2025_factor_set())
    add(ref.supplier_factor_set())
    add(ref.illustrative_factor_set())
    eu_sets = add(ref.eu_cbam_2026_factor_set())
    eu = add(rules.eu_cbam_rule(digests))
    uk = add(rules.uk_rule(digests))
    sea = add(rules.sea_rule(digests))
    add(rules.rating_rule())
    return ReferenceData(cn, desnz, eu_sets, eu, uk, sea)


def add_conversions(
    add: Add,
    digests: dict[str, str],
    refs: ReferenceData,
    tank: dict[str, Any],
    hx: dict[str, Any],
) -> None:
    """The tank's EU CBAM and UK conversions and the exchanger's manufacturing-only one."""
    add(
        substitution_record(
            SUB_TANK_EU, "2026-02-01T09:00:00Z", tank, refs.eu, [refs.eu_sets], digests
        )
    )
    add(
        substitution_record(
            SUB_TANK_UK, "2026-02-01T09:05:00Z", tank, refs.uk, [refs.desnz], digests
        )
    )
    add(
        substitution_record(
            SUB_HX_SEA,
            "2026-02-02T09:00:00Z",
            hx,
            refs.sea,
            [refs.cn],
            digests,
            {"H03": (FS_CN_MEE_2023, "cn-2023-east")},
            [eq.cn_grid_exception(digests)],
        )
    )


def example_records(digest_of: DigestOf = seeded_digest) -> dict[str, dict[str, Any]]:
    """Every example record by id, in an order where references come first."""
    book = RecordBook(digest_of)
    add, digests = book.add, book.digests
    refs = add_reference_data(add, digests)
    tank = add(eq.storage_tank_carbon_record(digests))
    hx = add(eq.heat_exchanger_carbon_record(digests))
    add(trail.tank_inspection_archive(digests))
    add(eq.storage_tank_carbon_record(digests, recoat_kg="180", revision_of=digests))
    add_conversions(add, digests, refs, tank, hx)
    add(trail.initial_credit_change(digests))
    add(trail.credit_change(digests))
    return book.records


def example_of_each_type(digest_of: DigestOf = seeded_digest) -> dict[str, dict[str, Any]]:
    """One valid example record per record type, keyed by type."""
    records = example_records(digest_of)
    pick = {
        "carbon-record": CR_TANK,
        "factor-set": FS_DESNZ_2025,
        "region-rule": RULE_EU_CBAM,
        "factor-substitution": SUB_TANK_UK,
        "rating-rule": RULE_RATING,
        "credit-change": CC_ENTERPRISE_2025,
        "bim-archive": BIM_TANK_INSPECTION,
    }
    return {rtype: records[rid] for rtype, rid in pick.items()}


__all__ = [
    "BIM_TANK_INSPECTION",
    "CC_ENTERPRISE_2024",
    "CC_ENTERPRISE_2025",
    "CR_HX",
    "CR_TANK",
    "CR_TANK_REVISED",
    "FS_CN_MEE_2023",
    "FS_DESNZ_2025",
    "FS_EU_CBAM_2026",
    "FS_ILLUSTRATIVE",
    "FS_IPCC_2006",
    "FS_SUPPLIER",
    "RULE_EU_CBAM",
    "RULE_RATING",
    "RULE_SEA",
    "RULE_UK",
    "SUB_HX_SEA",
    "SUB_TANK_EU",
    "SUB_TANK_UK",
    "DigestOf",
    "RecordBook",
    "ReferenceData",
    "add_conversions",
    "add_reference_data",
    "example_of_each_type",
    "example_records",
    "seeded_digest",
    "substitution_record",
]
