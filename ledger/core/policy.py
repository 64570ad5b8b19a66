"""Disclosure policies: which fields of a record each audience sees
(docs/FORMAT.md §2.2, docs/RECORDS.md §4).

``reveals(record_type, audience)`` returns a predicate over flattened field
paths (``("body", "lines", 3, "quantity")``) for use with
``commitment.redact(commitment, reveal=...)``. The public policy is an allow
list: a field nobody listed stays hidden, so a new body field is never
published by accident. Regulators and auditors see every field.
"""

from __future__ import annotations

from collections.abc import Callable

from ledger.core.errors import MalformedError
from ledger.core.records import RECORD_TYPES

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
        ("body", "lines", "*", "line_id"),
        ("body", "lines", "*", "stage"),
        ("body", "lines", "*", "emission_class"),
        ("body", "lines", "*", "cbam_channel"),
    ),
    # Reference data is published in full.
    "factor-set": (("body",),),
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
