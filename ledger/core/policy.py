"""Disclosure policies: which fields of a record each audience sees
(docs/FORMAT.md §2.2, docs/RECORDS.md §4).

Regulators and auditors see every field. The public sees a record in full unless it is
**confidential** (``is_confidential``): a credit change (its scores, by design), a BIM
archive entry (its documents), a risk assessment (its findings and the source's
factors), a meter-reading batch (its quantities), a carbon-efficiency evaluation (the
enterprise's value added and energy use), a supplier's declared factors (a factor set with
status ``supplier-declared``), and a carbon record or factor substitution that quotes such
a factor set. Reference data (official and illustrative factor sets, region and rating
rules, metadata templates, industry benchmarks and grading rules) is therefore public in
full, and so is every figure computed from public data
alone: anyone can recompute it. ``public_view`` gives the full view or the redacted one.

Of a confidential record the public sees what ``reveals(record_type, "public")`` lets
through: a predicate over flattened field paths (``("body", "lines", 3, "quantity")``)
for use with ``commitment.redact(commitment, reveal=...)``, an allow list, so a field
nobody listed stays hidden and a new body field is never published by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.records import RECORD_TYPES
from ledger.core.view import Commitment, View, redact

FieldPath = tuple[str | int, ...]
Pattern = tuple[str, ...]  # "*" matches any one segment (array index or key)

AUDIENCES = ("public", "regulator", "auditor")

# Fields every record reveals to everyone: what the record is and what it links to.
_ENVELOPE: tuple[Pattern, ...] = (
    ("type",),
    ("schema_version",),
    ("id",),
    ("subject",),
    ("issued_at",),
    ("producer",),
    ("refs",),
)

# The public allow list per type, in addition to the envelope.
_PUBLIC: dict[str, tuple[Pattern, ...]] = {
    # Totals and identity; no activity quantities, supplier factors or evidence.
    "carbon-record": (
        ("body", "equipment"),
        ("body", "reference_period"),
        ("body", "boundary"),
        ("body", "methodology"),
        ("body", "rounding"),
        ("body", "totals"),
        ("body", "quality"),
        ("body", "lines", "*", "line_id"),
        ("body", "lines", "*", "stage"),
        ("body", "lines", "*", "emission_class"),
        ("body", "lines", "*", "cbam_channel"),
    ),
    # Reference data is published in full; of a supplier's declared factors (the only
    # confidential factor sets) the public sees what each entry is, not its values.
    "factor-set": (
        ("body", "publisher"),
        ("body", "dataset"),
        ("body", "version"),
        ("body", "year"),
        ("body", "validity"),
        ("body", "region"),
        ("body", "source"),
        ("body", "license"),
        ("body", "gwp_basis"),
        ("body", "status"),
        ("body", "provenance"),
        ("body", "note"),
        ("body", "entries", "*", "id"),
        ("body", "entries", "*", "activity"),
        ("body", "entries", "*", "name"),
        ("body", "entries", "*", "unit"),
        ("body", "entries", "*", "gwp_set"),
        ("body", "entries", "*", "native_id"),
    ),
    "region-rule": (("body",),),
    "rating-rule": (("body",),),
    # The converted result and the regional difference table, without the
    # per-line factor values and line emissions (which reveal supplier data).
    "factor-substitution": (
        ("body", "source"),
        ("body", "rule"),
        ("body", "factor_sets"),
        ("body", "gwp"),
        ("body", "result"),
        ("body", "quality"),
        ("body", "lines", "*", "line_id"),
        ("body", "lines", "*", "action"),
        ("body", "lines", "*", "stage"),
        ("body", "lines", "*", "channel"),
        ("body", "lines", "*", "reason"),
        ("body", "lines", "*", "legal_ref"),
        ("body", "differences", "*", "kind"),
        ("body", "differences", "*", "stage"),
        ("body", "differences", "*", "channel"),
        ("body", "differences", "*", "line_id"),
        ("body", "differences", "*", "legal_ref"),
        ("body", "differences", "*", "from"),
        ("body", "differences", "*", "to"),
    ),
    # The grade and the period, never the scores or the totals behind them.
    "credit-change": (
        ("body", "enterprise"),
        ("body", "period"),
        ("body", "rule"),
        ("body", "grade"),
        ("body", "previous_grade"),
        ("body", "reason", "code"),
        ("body", "warning_list"),
        ("body", "rectification_deadline"),
    ),
    # That an event happened to an identified piece of equipment; the documents
    # (names, sizes, hashes) and the description stay with the regulator.
    "bim-archive": (
        ("body", "equipment"),
        ("body", "event", "kind"),
        ("body", "event", "at"),
        ("body", "ifc"),
        ("body", "carbon_records"),
    ),
    # The level and what it was measured against; the tariff, the inputs, the
    # difference table and the findings (which name substances and supplier data)
    # stay with the regulator.
    "risk-assessment": (
        ("body", "source"),
        ("body", "rule"),
        ("body", "factor_sets"),
        ("body", "region"),
        ("body", "result"),
        ("body", "cn_code"),
        ("body", "baseline"),
        ("body", "bands"),
        ("body", "ratio"),
        ("body", "level"),
        ("body", "level_basis"),
    ),
    # A declaration is public by purpose: the file hashes and who signed.
    "equivalence-declaration": (("body",),),
    # Which unit is declared where, and on which figure: public, so that anyone can see a
    # unit is taken; the declarant's identity stays with the regulator.
    "claim": (
        ("body", "regime"),
        ("body", "year"),
        ("body", "source"),
    ),
    # Which terminal measured which metering point over which intervals; the quantities
    # stay hidden, and so do the terminal's signatures: a signature over a hidden reading
    # would let anyone find its quantity by trying candidates against the public key.
    "meter-reading": (
        ("body", "metering_point"),
        ("body", "terminal"),
        ("body", "field"),
        ("body", "unit"),
        ("body", "template"),
        ("body", "readings", "*", "start"),
        ("body", "readings", "*", "end"),
    ),
    "metadata-template": (("body",),),
    "industry-benchmark": (("body",),),
    "efficiency-grading-rule": (("body",),),
    # The grade, the level and the figures they are read from (L, the industry average, K),
    # as the carbon-efficiency code shows them; the energy quantities, the emissions and
    # the value added stay with the regulator.
    "carbon-efficiency": (
        ("body", "enterprise"),
        ("body", "industry"),
        ("body", "period"),
        ("body", "boundary"),
        ("body", "rule"),
        ("body", "benchmark"),
        ("body", "template"),
        ("body", "sources", "*", "line_id"),
        ("body", "sources", "*", "kind"),
        ("body", "sources", "*", "field"),
        ("body", "sources", "*", "readings"),
        ("body", "sources", "*", "unit"),
        ("body", "sources", "*", "factor"),
        ("body", "result", "intensity", "value"),
        ("body", "result", "industry_average"),
        ("body", "result", "efficiency_value", "value"),
        ("body", "result", "level"),
        ("body", "result", "grade"),
    ),
}


def _matches(pattern: Pattern, path: FieldPath) -> bool:
    if len(path) < len(pattern):
        return False
    return all(p == "*" or p == seg for p, seg in zip(pattern, path, strict=False))


def _reveal_all(path: FieldPath) -> bool:
    return True


def reveals(record_type: str, audience: str) -> Callable[[FieldPath], bool]:
    """The predicate choosing the fields of a ``record_type`` that ``audience`` sees."""
    if record_type not in RECORD_TYPES:
        raise MalformedError(f"unknown record type {record_type!r}", path="type")
    if audience not in AUDIENCES:
        raise MalformedError(
            f"unknown audience {audience!r}; known: {', '.join(AUDIENCES)}", path="audience"
        )
    if audience != "public":
        return _reveal_all
    patterns = _ENVELOPE + _PUBLIC[record_type]

    def reveal(path: FieldPath) -> bool:
        return any(_matches(p, path) for p in patterns)

    return reveal


def policy_table() -> dict[str, dict[str, list[str]]]:
    """The policy as data (for docs and pages): type -> audience -> patterns."""
    table: dict[str, dict[str, list[str]]] = {}
    for rtype in RECORD_TYPES:
        public = [".".join(p) for p in _ENVELOPE + _PUBLIC[rtype]]
        table[rtype] = {"public": public, "regulator": ["*"], "auditor": ["*"]}
    return table


#: Types the public always sees redacted: a credit change's scores, a BIM archive entry's
#: documents, a plant's metered quantities, and the value added and energy use behind a
#: carbon-efficiency grade.
# A risk assessment's difference table and findings carry its source's factor values and
# substances: like a credit change's scores, never public.
_ALWAYS_CONFIDENTIAL = (
    "credit-change",
    "bim-archive",
    "risk-assessment",
    "meter-reading",
    "carbon-efficiency",
)

#: The status of a factor set whose values are a supplier's, not a publisher's.
SUPPLIER_DECLARED = "supplier-declared"


def is_confidential_set(record: Mapping[str, Any]) -> bool:
    """A factor set of a supplier's declared values (status ``supplier-declared``)."""
    body = record.get("body")
    return (
        record.get("type") == "factor-set"
        and isinstance(body, Mapping)
        and body.get("status") == SUPPLIER_DECLARED
    )


def is_confidential(record: Mapping[str, Any], *, confidential_sets: Collection[str] = ()) -> bool:
    """Whether the public sees ``record`` redacted rather than in full.

    ``confidential_sets``: ids of the factor sets ``record`` links that are confidential
    (the caller knows them: they are other records); only carbon records and factor
    substitutions depend on it.
    """
    rtype = record.get("type")
    if rtype in _ALWAYS_CONFIDENTIAL:
        return True
    if rtype == "factor-set":
        return is_confidential_set(record)
    if rtype in ("carbon-record", "factor-substitution"):
        refs = record.get("refs")
        return any(
            isinstance(ref, Mapping)
            and ref.get("rel") == "factor-set"
            and ref.get("id") in confidential_sets
            for ref in (refs if isinstance(refs, list) else ())
        )
    return False


def public_view(commitment: Commitment, *, confidential_sets: Collection[str] = ()) -> View:
    """What the public sees of a record: the full view (record and salts) unless the
    record is confidential, then the redacted view of ``reveals(type, "public")``."""
    record = commitment.record
    if not is_confidential(record, confidential_sets=confidential_sets):
        return commitment
    return redact(commitment, reveals(str(record.get("type")), "public"))
