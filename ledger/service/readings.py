"""Meter readings and metadata templates at acceptance (docs/SUBMISSION.md §5,
docs/RECORDS.md §3.12, §3.13).

A ``meter-reading`` batch is accepted only when its terminal's key is one the TrustRegistry
holds (mirrored in the store, ``ledger.store.terminals``), in this order:

1. the stated key is registered as a terminal key, for the terminal the batch names, with
   the same scheme and distinguishing identifier, not revoked before the batch arrives;
2. the key is granted ``meter-reading`` and the batch's metering point now (the grants
   in force when the record is accepted, as for a producer key's record types);
3. the key was valid at the end of every reading (when the terminal signed it);
4. every reading's signature verifies (docs/FORMAT.md §3.3);
5. when the batch names a template, it fits it: field, unit, each quantity in range
   (``ledger.core.templates.check_meter_reading_template``);
6. no reading overlaps a reading of the same metering point stored before or submitted
   earlier in the same call (a batch may overlap the one batch it supersedes).

A ``metadata-template`` that extends another must narrow it, never widen it
(``effective_fields`` over the chain of templates it extends).

Every refusal is a ``RefusedRecordError`` naming the field; nothing of the call is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ledger.core.canonical import format_timestamp
from ledger.core.errors import LedgerError, MalformedError, SignatureError
from ledger.core.readings import terminal_id_hex, terminal_key, verify_readings
from ledger.core.records import Record, Ref
from ledger.core.templates import check_meter_reading_template, effective_fields
from ledger.core.types.fields import timestamp
from ledger.service.recompute import Recomputation
from ledger.service.submission import ParsedSubmission, RefusedRecordError
from ledger.store import Transaction
from ledger.store.terminals import (
    StoredReadingSpan,
    StoredTerminalKey,
    lock_metering_points,
    spans_meeting,
    terminal_keys,
)

__all__ = ["ReadingChecks"]

READING_TYPE = "meter-reading"
Interval = tuple[datetime, datetime]


def _refuse(p: ParsedSubmission, field: str, reason: str, **evidence: Any) -> RefusedRecordError:
    return RefusedRecordError(reason, record_id=p.record_id, field=field, index=p.index, **evidence)


def _intervals(record: Record) -> list[Interval]:
    return [(timestamp(r["start"], ""), timestamp(r["end"], "")) for r in record.body["readings"]]


def _window(key: StoredTerminalKey) -> str:
    until = format_timestamp(key.valid_until) if key.valid_until else "no end"
    revoked = f", revoked at {format_timestamp(key.revoked_at)}" if key.revoked_at else ""
    return f"valid from {format_timestamp(key.valid_from)} until {until}{revoked}"


class ReadingChecks:
    """The reading and template checks of one accept call, in submission order:
    ``check(p)`` after ``p``'s links were checked, ``admitted(p)`` once it is in;
    ``spans`` are the new batches' spans, stored with the records."""

    def __init__(
        self,
        session: Transaction,
        parsed: Sequence[ParsedSubmission],
        *,
        inputs: Recomputation,
        now: datetime,
    ) -> None:
        self.session = session
        self.inputs = inputs
        self.now = now
        batches = [p.record for p in parsed if p.record.type == READING_TYPE]
        self.keys = terminal_keys(session, {terminal_key(b.body).key_id for b in batches})
        # Writers of one metering point take turns until commit (PostgreSQL; SQLite's
        # writers always do), so two calls never both miss each other's readings.
        lock_metering_points(session, {b.body["metering_point"] for b in batches})
        self._earlier: dict[str, list[tuple[str, list[Interval]]]] = {}
        self.spans: list[StoredReadingSpan] = []

    def check(self, p: ParsedSubmission) -> None:
        if p.record.type == READING_TYPE:
            self._check_terminal(p)
            self._check_template(p)
            self._check_overlaps(p)
        elif p.record.type == "metadata-template" and "extends" in p.record.body:
            self._check_narrowing(p)

    def admitted(self, p: ParsedSubmission) -> None:
        if p.record.type != READING_TYPE:
            return
        intervals = _intervals(p.record)
        point = p.record.body["metering_point"]
        self._earlier.setdefault(point, []).append((p.record_id, intervals))
        self.spans.append(StoredReadingSpan(p.record_id, point, intervals[0][0], intervals[-1][1]))

    # -- 1-4: the terminal ------------------------------------------------------------

    def _check_terminal(self, p: ParsedSubmission) -> None:
        batch = p.record.body
        stated = terminal_key(batch)
        kid = stated.key_id
        key = self.keys.get(kid)
        if key is None:
            raise _refuse(
                p,
                "body.terminal.public_key",
                f"no terminal key {kid} is registered in the TrustRegistry: meter readings "
                "are accepted only from registered terminals",
            )
        terminal_id = terminal_id_hex(batch["terminal"]["id"])
        if key.terminal_id_hex != terminal_id:
            raise _refuse(
                p,
                "body.terminal.id",
                f"terminal key {kid} is registered for another terminal",
                expected=key.terminal_id_hex,
                computed=terminal_id,
            )
        if key.scheme != stated.scheme:
            raise _refuse(
                p,
                "body.terminal.alg",
                f"terminal key {kid} is registered as a {key.scheme} key",
                expected=key.scheme,
                computed=stated.scheme,
            )
        ident = stated.distinguishing_id.hex() if stated.distinguishing_id is not None else None
        if key.distinguishing_id_hex != ident:
            raise _refuse(
                p,
                "body.terminal.distinguishing_id",
                f"terminal key {kid} is registered with another distinguishing identifier "
                "(hex of its UTF-8 bytes as evidence)",
                expected=key.distinguishing_id_hex,
                computed=ident,
            )
        if key.revoked_at is not None and key.revoked_at <= self.now:
            raise _refuse(
                p,
                "body.terminal.public_key",
                f"terminal key {kid} was revoked at {format_timestamp(key.revoked_at)}, before "
                f"this batch was received ({format_timestamp(self.now)})",
            )
        self._check_grants(p, key)
        for i, reading in enumerate(batch["readings"]):
            end = timestamp(reading["end"], "")
            if not key.is_valid_at(end):
                raise _refuse(
                    p,
                    f"body.readings[{i}].end",
                    f"terminal key {kid} was not valid when this reading ended "
                    f"({reading['end']}): it is {_window(key)}",
                )
        try:
            verify_readings(p.record)
        except SignatureError as exc:
            field, _, reason = exc.message.partition(": ")
            raise _refuse(p, field, reason, expected=exc.expected, computed=exc.computed) from None

    def _check_grants(self, p: ParsedSubmission, key: StoredTerminalKey) -> None:
        types = key.granted("record-type", self.now)
        if READING_TYPE not in types:
            raise _refuse(
                p,
                "body.terminal.public_key",
                f"terminal key {key.key_id} may not sign {READING_TYPE} readings: the "
                f"TrustRegistry grants it {', '.join(types) or 'no record type'}",
                expected=" or ".join(types),
                computed=READING_TYPE,
            )
        point = p.record.body["metering_point"]
        points = key.granted("metering-point", self.now)
        if point not in points:
            raise _refuse(
                p,
                "body.metering_point",
                f"terminal key {key.key_id} may not sign for metering point {point}: the "
                f"TrustRegistry grants it {', '.join(points) or 'no metering point'}",
                expected=" or ".join(points),
                computed=point,
            )

    # -- 5: the template ---------------------------------------------------------------

    def _templates(self, p: ParsedSubmission) -> dict[str, Record]:
        links = p.record.refs_with("template")
        try:
            return self.inputs.resolve(links, follow=("template",))
        except LedgerError as exc:
            raise _refuse(p, "body.template", f"cannot read the template: {exc.message}") from None

    def _check_template(self, p: ParsedSubmission) -> None:
        if "template" not in p.record.body:
            return
        templates = self._templates(p)
        try:
            check_meter_reading_template(p.record, templates)
        except MalformedError as exc:
            # A fault of the batch is at its own path; one of the template chain, at the link.
            ours = ("body.field", "body.unit", "body.readings", "body.template")
            field = exc.path if exc.path.startswith(ours) else "body.template"
            raise _refuse(p, field, exc.reason if field == exc.path else exc.message) from None

    def _check_narrowing(self, p: ParsedSubmission) -> None:
        closure = {**self._templates(p), p.record.id: p.record}
        try:
            effective_fields(p.record, closure)
        except MalformedError as exc:
            raise _refuse(p, exc.path or "body.extends", exc.reason) from None

    # -- 6: overlaps -------------------------------------------------------------------

    def _check_overlaps(self, p: ParsedSubmission) -> None:
        record = p.record
        point = record.body["metering_point"]
        intervals = _intervals(record)
        first, last = intervals[0][0], intervals[-1][1]
        replaced = record.supersedes.id if record.supersedes is not None else None
        earlier = self._earlier.get(point, [])
        others = [(rid, theirs, "earlier in this call") for rid, theirs in earlier]
        stored = [
            s for s in spans_meeting(self.session, point, first, last) if s.record_id != replaced
        ]
        if stored:
            refs = [_span_ref(s) for s in stored]
            found = self.inputs.resolve(refs)
            others += [(s.record_id, _intervals(found[s.record_id]), "stored") for s in stored]
        for other_id, theirs, where in others:
            clash = _first_overlap(intervals, theirs)
            if clash is not None:
                i, (start, end) = clash
                raise _refuse(
                    p,
                    f"body.readings[{i}].start",
                    f"overlaps the reading {format_timestamp(start)} to {format_timestamp(end)} "
                    f"of metering point {point} in {other_id} ({where}): a metering point "
                    "measures each moment once",
                )


def _span_ref(span: StoredReadingSpan) -> Ref:
    return Ref(READING_TYPE, span.record_id, span.digest_hex)


def _first_overlap(ours: list[Interval], theirs: list[Interval]) -> tuple[int, Interval] | None:
    """The first of ``ours`` that overlaps one of ``theirs`` (both in time order), with it."""
    j = 0
    for i, (start, end) in enumerate(ours):
        while j < len(theirs) and theirs[j][1] <= start:
            j += 1
        if j < len(theirs) and theirs[j][0] < end:
            return i, theirs[j]
    return None
