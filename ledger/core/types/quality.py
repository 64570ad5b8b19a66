"""Data quality and assurance of a carbon record or conversion (docs/RECORDS.md §3.8.1):
the `quality` member of schema version 2.

PACT asks every footprint for its primary data share and, from reference periods of 2025,
data-quality ratings; a verified footprint names its verification. Schema version 2 of
`carbon-record` and `factor-substitution` (``ledger.core.types.schema2``) may carry an
optional `quality` block:

- `primary_data_share`: percent, the figure of docs/CALC.md §13, recomputed from the lines
  (by the verifier, and by the accept path where it recomputes figures);
- `coverage_pct`: the share of the product's emissions the record covers (0–100); what is
  left out by the boundary's exclusions is 100 − coverage;
- `ratings`: the five data-quality ratings, each from 1 (best) to 5, `technological`,
  `temporal`, `geographical`, `completeness` and `reliability`;
- `assurance` *opt*: who verified the figure and how: `coverage` (`PCF calculation model`,
  `PCF program`, `product level`), `level` (`limited`, `reasonable`), `boundary`
  (`Gate-to-Gate`, `Cradle-to-Gate`), `provider` `{name, accreditation opt}`,
  `completed_at`, `standard`, and `report_sha256` *opt*: the SHA-256 of the verification
  report, which ties the block to the TrustRegistry attestation that names the same report
  digest for this record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ledger.core.types import fields as f
from ledger.core.types.carbon import BodyLink

__all__ = [
    "ASSURANCE_COVERAGES",
    "ASSURANCE_LEVELS",
    "RATINGS",
    "validate_quality",
    "with_quality",
]

RATINGS = ("technological", "temporal", "geographical", "completeness", "reliability")
#: PACT v3 ``Verification.coverage``.
ASSURANCE_COVERAGES = ("PCF calculation model", "PCF program", "product level")
ASSURANCE_LEVELS = ("limited", "reasonable")
ASSURANCE_BOUNDARIES = ("Gate-to-Gate", "Cradle-to-Gate")


def _percent(value: Any, path: str) -> Decimal:
    number = f.decimal(value, path, non_negative=True)
    if number > 100:
        raise f.fail(path, "expected a percentage from 0 to 100")
    return number


def validate_quality(value: Any, path: str) -> None:
    o = f.obj(value, path, ("primary_data_share", "coverage_pct", "ratings"), ("assurance",))
    _percent(o["primary_data_share"], f.sub(path, "primary_data_share"))
    _percent(o["coverage_pct"], f.sub(path, "coverage_pct"))
    r_path = f.sub(path, "ratings")
    ratings = f.obj(o["ratings"], r_path, RATINGS)
    for key in RATINGS:
        rating = f.decimal(ratings[key], f.sub(r_path, key), positive=True)
        if not 1 <= rating <= 5:
            raise f.fail(f.sub(r_path, key), "expected a rating from 1 to 5")
    if "assurance" in o:
        a_path = f.sub(path, "assurance")
        a = f.obj(
            o["assurance"],
            a_path,
            ("coverage", "level", "boundary", "provider", "completed_at", "standard"),
            ("report_sha256",),
        )
        f.enum(a["coverage"], f.sub(a_path, "coverage"), ASSURANCE_COVERAGES)
        f.enum(a["level"], f.sub(a_path, "level"), ASSURANCE_LEVELS)
        f.enum(a["boundary"], f.sub(a_path, "boundary"), ASSURANCE_BOUNDARIES)
        p_path = f.sub(a_path, "provider")
        provider = f.obj(a["provider"], p_path, ("name",), ("accreditation",))
        f.text(provider["name"], f.sub(p_path, "name"), max_len=256)
        if "accreditation" in provider:
            f.text(provider["accreditation"], f.sub(p_path, "accreditation"), max_len=256)
        f.timestamp(a["completed_at"], f.sub(a_path, "completed_at"))
        f.text(a["standard"], f.sub(a_path, "standard"), max_len=256)
        if "report_sha256" in a:
            f.sha256_hex(a["report_sha256"], f.sub(a_path, "report_sha256"))


BodyValidator = Callable[[Any, str, str], list[BodyLink]]


def with_quality(version_1: BodyValidator) -> BodyValidator:
    """A body validator that also takes an optional `quality` block (schema version 2)."""

    def validate(body: Any, path: str, subject: str) -> list[BodyLink]:
        if isinstance(body, Mapping) and "quality" in body:
            validate_quality(body["quality"], f.sub(path, "quality"))
            body = {k: v for k, v in body.items() if k != "quality"}
        return version_1(body, path, subject)

    return validate
