"""The record envelope and the record types (docs/RECORDS.md).

``validate_record`` turns a parsed JSON value into a :class:`Record` or raises
:class:`InvalidRecordError` (a :class:`MalformedError`) naming the record id and
the JSON path of the first fault::

    record urn:carbonledger:carbon-record:t101: body.lines[3].quantity:
    expected a decimal string like "12.50", got a number
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.types import fields as f
from ledger.core.types import vocab
from ledger.core.types.assessment import validate_assessment_body
from ledger.core.types.carbon import BodyLink, validate_carbon_body
from ledger.core.types.claim import validate_claim_body
from ledger.core.types.declaration import validate_declaration_body
from ledger.core.types.efficiency import EFFICIENCY_REFERENCE_TYPES, EFFICIENCY_VALIDATORS
from ledger.core.types.metering import validate_meter_reading_body
from ledger.core.types.reference import (
    validate_factor_set_body,
    validate_rating_rule_body,
    validate_region_rule_body,
)
from ledger.core.types.region_rule import validate_region_rule_body_v2
from ledger.core.types.schema2 import (
    validate_carbon_body_v2,
    validate_carbon_body_v3,
    validate_credit_body_v2,
    validate_substitution_body_v2,
    validate_substitution_body_v3,
)
from ledger.core.types.substitution import validate_substitution_body
from ledger.core.types.trail import validate_archive_body, validate_credit_body

__all__ = [
    "RECORD_TYPES",
    "SCHEMA_VERSIONS",
    "InvalidRecordError",
    "Record",
    "Ref",
    "refs_of",
    "validate_record",
]

_BodyValidator = Callable[[Any, str, str], list[BodyLink]]

# type -> {schema_version -> body validator}. A new schema version is added
# here next to the old one: every version ever issued stays readable (docs/FORMAT.md).
_VALIDATORS: dict[str, dict[str, _BodyValidator]] = {
    "carbon-record": {
        "1": validate_carbon_body,
        "2": validate_carbon_body_v2,
        "3": validate_carbon_body_v3,
    },
    "factor-set": {"1": validate_factor_set_body},
    "region-rule": {"1": validate_region_rule_body, "2": validate_region_rule_body_v2},
    "factor-substitution": {
        "1": validate_substitution_body,
        "2": validate_substitution_body_v2,
        "3": validate_substitution_body_v3,
    },
    "rating-rule": {"1": validate_rating_rule_body},
    "credit-change": {"1": validate_credit_body, "2": validate_credit_body_v2},
    "bim-archive": {"1": validate_archive_body},
    "risk-assessment": {"1": validate_assessment_body},
    "equivalence-declaration": {"1": validate_declaration_body},
    "claim": {"1": validate_claim_body},
    "meter-reading": {"1": validate_meter_reading_body},
    **{rtype: {"1": validator} for rtype, validator in EFFICIENCY_VALIDATORS.items()},
}
RECORD_TYPES = tuple(_VALIDATORS)
#: Every schema version each type was ever issued in (all of them stay readable).
SCHEMA_VERSIONS: dict[str, tuple[str, ...]] = {t: tuple(v) for t, v in _VALIDATORS.items()}
REFERENCE_TYPES = ("factor-set", "region-rule", "rating-rule", *EFFICIENCY_REFERENCE_TYPES)
# Records about one piece of equipment: their subject is its Handle, OID or Ecode.
EQUIPMENT_TYPES = (
    "carbon-record",
    "bim-archive",
    "factor-substitution",
    "risk-assessment",
    "equivalence-declaration",
    "claim",
)

_ENVELOPE = ("type", "schema_version", "id", "subject", "issued_at", "producer", "refs", "body")


class InvalidRecordError(MalformedError):
    """A record that does not conform to its type; names the record id and path."""

    def __init__(self, message: str, *, path: str = "", record_id: str | None = None) -> None:
        super().__init__(message, path=path)
        self.record_id = record_id
        if record_id is not None:
            self.message = f"record {record_id}: {self.message}"
            self.args = (self.message,)


@dataclass(frozen=True)
class Ref:
    """A link from one record to another: ``{rel, id, digest}`` (docs/RECORDS.md §1)."""

    rel: str
    id: str
    digest: str
    reason: str | None = None


@dataclass(frozen=True)
class Record:
    """A validated record. ``raw`` is a private deep copy of the input value,
    ``body`` the validated body inside it; treat both as read-only."""

    type: str
    schema_version: str
    id: str
    subject: str
    issued_at: datetime
    producer: str
    refs: tuple[Ref, ...]
    body: Mapping[str, Any]
    raw: Mapping[str, Any]

    def refs_with(self, rel: str) -> tuple[Ref, ...]:
        return tuple(r for r in self.refs if r.rel == rel)

    @property
    def supersedes(self) -> Ref | None:
        """The record this one replaces, if any (with its reason code)."""
        found = self.refs_with("supersedes")
        return found[0] if found else None

    @property
    def previous(self) -> Ref | None:
        """The rating a credit change follows (schema 2's ``previous`` link), if any."""
        found = self.refs_with("previous")
        return found[0] if found else None


def refs_of(record: Record) -> tuple[Ref, ...]:
    """Every record this one depends on (its closure's first level)."""
    return record.refs


def _validate_refs(value: Any, path: str, own_id: str) -> tuple[Ref, ...]:
    refs: list[Ref] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(f.array(value, path, max_items=1000)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("rel", "id", "digest"), ("reason",))
        rel = f.enum(o["rel"], f.sub(p, "rel"), vocab.REF_RELS)
        ref_id = f.urn(o["id"], f.sub(p, "id"))
        digest = f.sha256_hex(o["digest"], f.sub(p, "digest"))
        if ref_id == own_id:
            raise f.fail(f.sub(p, "id"), "a record cannot refer to itself")
        reason = None
        if "reason" in o:
            if rel != "supersedes":
                raise f.fail(f.sub(p, "reason"), "only a 'supersedes' link carries a reason")
            reason = f.enum(o["reason"], f.sub(p, "reason"), vocab.SUPERSESSION_REASONS)
        elif rel == "supersedes":
            raise f.fail(f.sub(p, "reason"), "a 'supersedes' link needs a reason code")
        if (rel, ref_id) in seen:
            raise f.fail(f.sub(p, "id"), f"duplicate {rel!r} link to {ref_id}")
        seen.add((rel, ref_id))
        refs.append(Ref(rel, ref_id, digest, reason))
    if sum(1 for r in refs if r.rel == "supersedes") > 1:
        raise f.fail(path, "a record supersedes at most one record")
    return tuple(refs)


def _check_body_links(refs: tuple[Ref, ...], links: list[BodyLink]) -> None:
    listed = {(r.rel, r.id): r.digest for r in refs}
    for rel, ref_id, digest, path in links:
        if (rel, ref_id) not in listed:
            raise f.fail(path, f"{ref_id} is not listed in refs with rel {rel!r}")
        if listed[(rel, ref_id)] != digest:
            raise f.fail(f.sub(path, "digest"), f"digest differs from the {rel!r} link in refs")


def validate_record(value: Any, *, owned: bool = False) -> Record:
    """Check a parsed JSON value against the envelope and its type's body schema.

    The record keeps a private deep copy of ``value``; with ``owned`` the caller hands the
    value over (it was parsed for this record alone and nobody changes it afterwards), and
    the copy, a third of the validation's cost, is not made.
    """
    record_id: str | None = None
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        candidate = value["id"]
        record_id = candidate if f.URN_RE.fullmatch(candidate) else None
    try:
        return _validate(value, owned=owned)
    except MalformedError as exc:
        raise InvalidRecordError(exc.reason, path=exc.path, record_id=record_id) from None


def _check_previous_link(rtype: str, version: str, refs: tuple[Ref, ...], body: Any) -> None:
    """A ``previous`` link belongs to credit-change schema 2 only; there it is present
    exactly when ``previous_grade`` is not null, and a rating that supersedes another
    follows it (docs/RECORDS.md §3.6)."""
    at = [i for i, r in enumerate(refs) if r.rel == "previous"]
    if rtype != "credit-change" or version == "1":
        if at:
            raise f.fail(
                f"refs[{at[0]}].rel",
                "a 'previous' link is part of credit-change schema 2 only",
            )
        return
    if len(at) > 1:
        raise f.fail(f"refs[{at[1]}].rel", "a credit change follows at most one rating")
    grade = body["previous_grade"]
    if grade is None and at:
        raise f.fail(f"refs[{at[0]}]", "previous_grade is null, so no rating is followed")
    if grade is not None and not at:
        raise f.fail(
            "refs",
            f"previous_grade is {grade!r}: name the rating that set it with a 'previous' link",
        )
    link = next((r for r in refs if r.rel == "supersedes"), None)
    if link is not None and at and (refs[at[0]].id, refs[at[0]].digest) != (link.id, link.digest):
        raise f.fail(
            f"refs[{at[0]}].id",
            f"the record supersedes {link.id}; a rating can replace only the rating it follows",
        )


def _validate(value: Any, *, owned: bool) -> Record:
    o = f.obj(value, "", _ENVELOPE)
    rtype = f.text(o["type"], "type", max_len=64)
    if rtype not in _VALIDATORS:
        raise f.fail("type", f"unknown record type {rtype!r}; known: {', '.join(RECORD_TYPES)}")
    version = f.text(o["schema_version"], "schema_version", max_len=16)
    validator = _VALIDATORS[rtype].get(version)
    if validator is None:
        known = ", ".join(_VALIDATORS[rtype])
        raise f.fail(
            "schema_version", f"unknown schema_version {version!r} of {rtype}; known: {known}"
        )
    record_id = f.urn(o["id"], "id")
    subject = f.text(o["subject"], "subject", max_len=256)
    if any(ch.isspace() for ch in subject):
        raise f.fail("subject", "expected an identifier without spaces")
    if rtype in REFERENCE_TYPES and not f.SLUG_RE.fullmatch(subject):
        raise f.fail("subject", f"expected a reference-data id like 'desnz-2025', got {subject!r}")
    if rtype in EQUIPMENT_TYPES:
        f.identifier(subject, "subject")
    issued_at = f.timestamp(o["issued_at"], "issued_at")
    producer = f.text(o["producer"], "producer", max_len=256)
    refs = _validate_refs(o["refs"], "refs", record_id)
    links = validator(o["body"], "body", subject)
    _check_body_links(refs, links)
    _check_previous_link(rtype, version, refs, o["body"])
    raw = dict(o) if owned else copy.deepcopy(dict(o))
    return Record(
        type=rtype,
        schema_version=version,
        id=record_id,
        subject=subject,
        issued_at=issued_at,
        producer=producer,
        refs=refs,
        body=raw["body"],
        raw=raw,
    )


def supersession_chain(record: Record, known: Mapping[str, Record]) -> list[Record]:
    """The record and those it supersedes, newest first, as far as ``known`` reaches.

    Raises MalformedError on a cycle or when a superseded record is of another type.
    """
    chain = [record]
    seen = {record.id}
    current = record
    while (link := current.supersedes) is not None and link.id in known:
        previous = known[link.id]
        if previous.id in seen:
            raise MalformedError(f"supersession cycle through {previous.id}", path="refs")
        if previous.type != record.type:
            raise MalformedError(
                f"{current.id} supersedes {previous.id}, a {previous.type}", path="refs"
            )
        seen.add(previous.id)
        chain.append(previous)
        current = previous
    return chain
