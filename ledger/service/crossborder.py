"""The cross-border desk (docs/API.md §3.7): pre-assessment of a stored carbon record or
a draft for a region, risk assessments and conversions signed by the service's own
producer keys and submitted through the accept path, and the export locks.

The rule of a region is the region rule of schema version 2 (the knowledge base) for
that region accepted last; its factor sets are the ones it names. Everything is computed
by ``ledger.core`` (calc/1), the same code the accept path and the verifier recompute
with; what is stored goes through :meth:`LedgerService.accept_values` like any producer's
submission (the key must be registered and granted the type).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.calc.substitution import Choices
from ledger.core.canonical import format_timestamp
from ledger.core.crossborder import compose
from ledger.core.crossborder.assessment import compute_risk_assessment
from ledger.core.errors import MalformedError, NotFoundError, UnavailableError
from ledger.core.receipt import Receipt
from ledger.core.records import Record, validate_record
from ledger.core.submission import submission_bytes
from ledger.core.view import commit
from ledger.service.accept import LedgerService
from ledger.service.locks import (
    ExportLock,
    latest_assessments,
    lock_of,
    locks_of,
    refuse_if_locked,
)
from ledger.service.recompute import parse_stored
from ledger.store import Store, Transaction
from ledger.store.chainmirror import accreditations_named
from ledger.store.inputs import full_views, newest_of_type

__all__ = ["Assessed", "Converted", "CrossBorderDesk", "Signer"]

#: Region rules read to find a region's knowledge base (newest first).
RULES_READ = 500
KB_SCHEMA = "2"


@dataclass(frozen=True)
class Signer:
    """A producer the service signs as, and its registered Ed25519 key."""

    producer: str
    key: Ed25519PrivateKey


@dataclass(frozen=True)
class Assessed:
    """A pre-assessment: its body (docs/RECORDS.md §3.9), and the risk-assessment record
    with its receipt when it was stored."""

    body: dict[str, Any]
    record: dict[str, Any] | None
    receipt: Receipt | None


@dataclass(frozen=True)
class Converted:
    """A conversion on request: the factor-substitution record and its receipt."""

    record: dict[str, Any]
    receipt: Receipt


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "x"


def _choices(value: Any) -> Choices:
    """``[{line_id, set, entry}]`` as calc/1's choices (shape checked here)."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise MalformedError("must be a list of {line_id, set, entry}", path="choices")
    out: dict[str, tuple[str, str]] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"line_id", "set", "entry"}:
            raise MalformedError("must be {line_id, set, entry}", path=f"choices[{i}]")
        if not all(isinstance(item[k], str) for k in item):
            raise MalformedError("members must be strings", path=f"choices[{i}]")
        out[item["line_id"]] = (item["set"], item["entry"])
    return out


class CrossBorderDesk:
    """Assessments, conversions and locks over the store and the accept path."""

    def __init__(
        self,
        *,
        store: Store,
        ledger: LedgerService | None,
        assessor: Signer | None,
        converter: Signer | None,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.assessor = assessor
        self.converter = converter

    # -- reading the inputs ------------------------------------------------------------

    @staticmethod
    def rule_for(session: Transaction, region: str) -> Record:
        """The knowledge-base rule of ``region`` accepted last; an unknown region is a
        malformed request naming the regions known."""
        known: set[str] = set()
        for stored in newest_of_type(session, "region-rule", limit=RULES_READ):
            rule = parse_stored(stored)
            if rule.schema_version != KB_SCHEMA:
                continue
            if rule.body["region"] == region:
                return rule
            known.add(str(rule.body["region"]))
        raise MalformedError(
            f"unknown region {region!r}: no region rule of schema version 2 states it "
            f"(known: {', '.join(sorted(known)) or 'none'})",
            path="region",
        )

    @staticmethod
    def _records(session: Transaction, ids: Sequence[str], what: str) -> list[Record]:
        stored = full_views(session, ids)
        out = []
        for rid in ids:
            if rid not in stored:
                raise NotFoundError(f"{what} {rid} is not stored")
            out.append(parse_stored(stored[rid]))
        return out

    def _inputs(
        self, session: Transaction, source_id: str, region: str
    ) -> tuple[Record, Record, list[Record], dict[str, str]]:
        (source,) = self._records(session, [source_id], "source record")
        if source.type != "carbon-record":
            raise MalformedError(
                f"{source_id} is a {source.type}, not a carbon record", path="source"
            )
        rule = self.rule_for(session, region)
        set_ids = [link["id"] for link in rule.body["factor_sets"]]
        sets = self._records(session, set_ids, "factor set")
        digests = {r.id: d for r, d in self._digests(session, [source, rule, *sets])}
        return source, rule, sets, digests

    @staticmethod
    def _digests(session: Transaction, records: Sequence[Record]) -> list[tuple[Record, str]]:
        stored = full_views(session, [r.id for r in records])
        return [(r, stored[r.id].digest_hex) for r in records]

    @staticmethod
    def _draft(draft: Any) -> Record:
        """A draft carbon record sent for assessment only: validated, never stored."""
        if not isinstance(draft, dict):
            raise MalformedError("must be a carbon record (a JSON object)", path="draft")
        try:
            record = validate_record(draft)
        except MalformedError as exc:
            raise MalformedError(
                exc.reason, path=f"draft.{exc.path}" if exc.path else "draft"
            ) from None
        if record.type != "carbon-record":
            raise MalformedError(f"is a {record.type}, not a carbon record", path="draft.type")
        return record

    # -- assessments -------------------------------------------------------------------

    def assess(
        self,
        *,
        region: str,
        import_date: date,
        assessed_at: datetime,
        source_id: str | None = None,
        draft: Any = None,
        choices: Any = None,
        origin_price: Mapping[str, Any] | None = None,
        store: bool = False,
    ) -> Assessed:
        """Pre-assess a stored carbon record (``source_id``) or a ``draft`` for ``region``.
        With ``store`` (stored sources only) the assessment becomes a risk-assessment
        record signed by the assessor key and submitted through the accept path."""
        if (source_id is None) == (draft is None):
            raise MalformedError("give exactly one of source (a stored record) or draft")
        if store and draft is not None:
            raise MalformedError("a draft is assessed only, never stored", path="store")
        picked = _choices(choices)
        issued_at = format_timestamp(assessed_at)
        if draft is not None:
            source = self._draft(draft)
            rule, sets = self.store.run(lambda s: self._draft_inputs(s, region), readonly=True)
            computed = compute_risk_assessment(
                source,
                rule,
                sets,
                assessed_on=assessed_at.date(),
                import_date=import_date,
                choices=picked,
                origin_price=origin_price,
            )
            body = {"source": {"id": source.id, "digest": None}, **computed}
            return Assessed(body, None, None)
        if source_id is None:
            raise MalformedError("name a stored carbon record or give a draft", path="source")
        src, rule, sets, digests = self.store.run(
            lambda s: self._inputs(s, source_id, region), readonly=True
        )
        signer = self._signer(self.assessor, "assessment") if store else None
        rid = (
            f"urn:carbonledger:risk-assessment:{_slug(src.subject)}-{_slug(region)}-"
            f"{assessed_at:%Y%m%dt%H%M%S}-{secrets.token_hex(3)}"
        )
        record = compose.assessment_record(
            rid,
            issued_at,
            signer.producer if signer else "urn:carbonledger:producer:not-stored",
            src,
            rule,
            sets,
            digests,
            import_date=import_date,
            choices=picked,
            origin_price=origin_price,
        )
        if signer is None:
            return Assessed(record["body"], None, None)
        return Assessed(record["body"], record, self._submit(record, signer))

    def _draft_inputs(self, session: Transaction, region: str) -> tuple[Record, list[Record]]:
        rule = self.rule_for(session, region)
        sets = self._records(session, [s["id"] for s in rule.body["factor_sets"]], "factor set")
        return rule, sets

    # -- conversions -------------------------------------------------------------------

    def convert(
        self,
        *,
        source_id: str,
        region: str,
        issued_at: datetime,
        choices: Any = None,
        supplements: Sequence[Mapping[str, Any]] | None = None,
        allocations: Sequence[Mapping[str, Any]] | None = None,
    ) -> Converted:
        """Compute the factor substitution of ``source_id`` under ``region``'s rule (its
        mandatory factors; supplementary lines and allocations as given), sign it with the
        conversion key and submit it (refused with 409 while red-locked)."""
        signer = self._signer(self.converter, "conversion")
        src, rule, sets, digests = self.store.run(
            lambda s: self._inputs(s, source_id, region), readonly=True
        )
        self.store.run(
            lambda s: refuse_if_locked(s, src.subject, region, what=f"a conversion into {region}"),
            readonly=True,
        )
        rid = (
            f"urn:carbonledger:factor-substitution:{_slug(src.subject)}-{_slug(region)}-"
            f"{issued_at:%Y%m%dt%H%M%S}-{secrets.token_hex(3)}"
        )
        record = compose.substitution_record(
            rid,
            format_timestamp(issued_at),
            signer.producer,
            src,
            rule,
            sets,
            digests,
            choices=_choices(choices),
            supplements=supplements,
            allocations=allocations,
        )
        return Converted(record, self._submit(record, signer))

    # -- declarations ------------------------------------------------------------------

    def declaration_inputs(self, conversion_id: str) -> tuple[Record, Record, Record]:
        """The conversion, its source and its rule, for a declaration; refused with 409
        while the conversion's subject is red-locked for its region."""

        def work(session: Transaction) -> tuple[Record, Record, Record]:
            (conversion,) = self._records(session, [conversion_id], "conversion")
            if conversion.type != "factor-substitution":
                raise MalformedError(
                    f"{conversion_id} is a {conversion.type}, not a conversion",
                    path="conversion",
                )
            body = conversion.body
            source, rule = self._records(
                session, [body["source"]["id"], body["rule"]["id"]], "input"
            )
            refuse_if_locked(
                session,
                conversion.subject,
                str(rule.body["region"]),
                what=f"the declaration of {conversion_id}",
            )
            return conversion, source, rule

        return self.store.run(work, readonly=True)

    # -- the whitelist -----------------------------------------------------------------

    def body_warning(self, name: str, region: str, at: datetime) -> str | None:
        """Why the body an exporter picked cannot sign for ``region``, or None."""
        named = self.store.run(lambda s: accreditations_named(s, name), readonly=True)
        if any(a.recognises(region, at) for a in named):
            return None
        if not named:
            return f"body {name!r} is not accredited in the TrustRegistry"
        return (
            f"body {name!r} is not recognised for region {region} "
            f"(regions {', '.join(named[0].regions) or 'none'}): pick a body the whitelist "
            f"recognises for {region} to sign the declaration"
        )

    # -- locks -------------------------------------------------------------------------

    def assessments(self, subject: str) -> dict[str, Record]:
        """The risk assessment in force of ``subject`` per region (what the lock weighs)."""
        return self.store.run(lambda s: latest_assessments(s, subject), readonly=True)

    def locks(self, subject: str) -> list[ExportLock]:
        return self.store.run(lambda s: locks_of(s, subject), readonly=True)

    def lock(self, subject: str, region: str) -> ExportLock | None:
        return self.store.run(lambda s: lock_of(s, subject, region), readonly=True)

    def refuse_if_locked(self, subject: str, region: str, *, what: str) -> None:
        """The export check (``ledger.service.locks.refuse_if_locked``) in a read
        transaction of its own."""
        self.store.run(lambda s: refuse_if_locked(s, subject, region, what=what), readonly=True)

    # -- signing -----------------------------------------------------------------------

    def _signer(self, signer: Signer | None, what: str) -> Signer:
        if signer is None:
            raise UnavailableError(f"this instance has no {what} key: it cannot sign {what}s")
        return signer

    def _submit(self, record: dict[str, Any], signer: Signer) -> Receipt:
        if self.ledger is None:
            raise UnavailableError("this instance does not accept records (no service key)")
        return self.ledger.accept(submission_bytes(commit(record), signer.key))
