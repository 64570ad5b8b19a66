"""Export locks (docs/API.md §3.7): while the risk assessment in force of a subject for a
region is red, nothing leaves the service for that subject and region.

The assessment in force is the one accepted last among those that are neither revoked
(the registry holds its revocation) nor superseded (a stored record supersedes it, or the
registry holds its supersession): a revoked red assessment locks nothing, and a revoked
assessment that was not red no longer lifts the lock of the one before it. Inside a bulk,
the assessments admitted earlier in the same call are newer than every stored one
(``pending``), so the lock is applied in submission order. A newer assessment that is not
red lifts the lock. :func:`refuse_if_locked` is the one check every export path calls,
inside its own transaction: the accept path for a factor substitution into the region,
the bundles of a subject for a region, a conversion's bundle and its equivalence
declaration, and the exchange with buyers' systems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.core.canonical import format_timestamp
from ledger.core.errors import ConflictError
from ledger.core.records import Record
from ledger.service.exportlock import LockCheck
from ledger.service.recompute import parse_stored
from ledger.store import Store, Transaction
from ledger.store.chainfacts import withdrawn_among
from ledger.store.inputs import full_views, newest_about
from ledger.store.lookups import superseded_among

__all__ = [
    "ASSESSMENTS_READ",
    "ExportLock",
    "ExportLockedError",
    "export_region",
    "latest_assessments",
    "lock_of",
    "locks_of",
    "refuse_if_locked",
    "refuse_record_if_locked",
    "store_lock_check",
]

#: The assessments of one subject read to find the latest per region: far more than the
#: regions a knowledge base holds, and a bound on the work of one export.
ASSESSMENTS_READ = 500
LOCKING_LEVEL = "red"


@dataclass(frozen=True)
class ExportLock:
    """A red assessment in force for ``subject`` and ``region``."""

    subject: str
    region: str
    assessment_id: str
    issued_at: str
    level_basis: tuple[str, ...]
    clears: str

    def reason(self) -> str:
        """Why exports are locked, in one sentence (the refusals quote it)."""
        return (
            f"the risk assessment in force of {self.subject} for region {self.region}, "
            f"{self.assessment_id} ({self.issued_at}), is red ({', '.join(self.level_basis)}); "
            f"{self.clears}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "region": self.region,
            "assessment": self.assessment_id,
            "issued_at": self.issued_at,
            "level": LOCKING_LEVEL,
            "level_basis": list(self.level_basis),
            "clears": self.clears,
        }


class ExportLockedError(ConflictError):
    """An export (or a conversion into the region) refused by a red assessment: 409,
    naming the assessment (``record_id``) and what would clear it."""

    def __init__(self, lock: ExportLock, what: str, *, index: int | None = None) -> None:
        super().__init__(f"{what} refused: {lock.reason()}")
        self.lock = lock
        self.record_id = lock.assessment_id
        #: The refused submission's place in a bulk (None outside the accept path).
        self.index = index


def _clears(record: Record) -> str:
    body = record.body
    advice = [s["en"] for s in body["suggestions"] if s["for"] in (LOCKING_LEVEL,)]
    advice += [s["en"] for s in body["suggestions"] if s["for"].startswith("required-data:")]
    text = (
        f"a newer risk assessment of {record.subject} for {body['region']} that is not red "
        "lifts the lock (rectify the record, then assess it again)"
    )
    return text + (": " + " ".join(advice) if advice else "")


def latest_assessments(
    session: Transaction, subject: str, *, pending: Sequence[Record] = ()
) -> dict[str, Record]:
    """The risk assessment in force of ``subject`` per region: the one accepted last that
    is neither revoked nor superseded. ``pending`` are records admitted earlier in the
    same bulk, in submission order (not stored yet, so newer than every stored one)."""
    newer = [r for r in reversed(pending) if r.type == "risk-assessment" and r.subject == subject]
    stored = newest_about(session, "risk-assessment", subject, limit=ASSESSMENTS_READ)
    withdrawn = superseded_among(session, [s.record_id for s in stored])
    withdrawn |= {r.supersedes.id for r in pending if r.supersedes is not None}
    revoked = withdrawn_among(session, [s.digest_hex for s in stored])
    out: dict[str, Record] = {}
    for record in newer:
        if record.id not in withdrawn:
            out.setdefault(str(record.body["region"]), record)
    for view in stored:
        if view.record_id in withdrawn or view.digest_hex in revoked:
            continue
        record = parse_stored(view)
        out.setdefault(str(record.body["region"]), record)
    return out


def _lock(record: Record) -> ExportLock | None:
    body = record.body
    if body["level"] != LOCKING_LEVEL:
        return None
    return ExportLock(
        subject=record.subject,
        region=body["region"],
        assessment_id=record.id,
        issued_at=format_timestamp(record.issued_at),
        level_basis=tuple(body["level_basis"]),
        clears=_clears(record),
    )


def locks_of(session: Transaction, subject: str) -> list[ExportLock]:
    """The locks in force for ``subject``, by region."""
    found = latest_assessments(session, subject)
    return [lock for region in sorted(found) if (lock := _lock(found[region])) is not None]


def lock_of(
    session: Transaction, subject: str, region: str, *, pending: Sequence[Record] = ()
) -> ExportLock | None:
    """The lock in force for ``subject`` and ``region``, or None (``pending``: as for
    :func:`latest_assessments`)."""
    latest = latest_assessments(session, subject, pending=pending).get(region)
    return None if latest is None else _lock(latest)


def refuse_if_locked(
    session: Transaction,
    subject: str,
    region: str,
    *,
    what: str,
    pending: Sequence[Record] = (),
    index: int | None = None,
) -> None:
    """The export check: raise ExportLockedError while ``subject`` is red for ``region``.
    ``what`` names the refused operation in the message; in a bulk, ``pending`` are the
    records admitted before it and ``index`` its place."""
    lock = lock_of(session, subject, region, pending=pending)
    if lock is not None:
        raise ExportLockedError(lock, what, index=index)


def export_region(
    session: Transaction, record: Record, rules: Mapping[str, Record] | None = None
) -> str | None:
    """The region a record is exported into: a factor substitution's rule's region, an
    equivalence declaration's region; None for a record that is not bound for a region.
    ``rules`` may hold the rule already at hand (by id)."""
    if record.type == "equivalence-declaration":
        return str(record.body["region"])
    if record.type != "factor-substitution":
        return None
    rule_id = record.body["rule"]["id"]
    rule = (rules or {}).get(rule_id)
    if rule is None:
        stored = full_views(session, [rule_id]).get(rule_id)
        if stored is None:
            return None
        rule = parse_stored(stored)
    return str(rule.body["region"])


def refuse_record_if_locked(session: Transaction, record_id: str) -> None:
    """The export check for one record: a conversion or an equivalence declaration whose
    subject is red-locked for its region is refused; any other record passes (and a
    record that is not stored is the exporter's to report)."""
    stored = full_views(session, [record_id]).get(record_id)
    if stored is None or stored.type not in ("factor-substitution", "equivalence-declaration"):
        return
    record = parse_stored(stored)
    region = export_region(session, record)
    if region is not None:
        refuse_if_locked(session, record.subject, region, what=f"the export of {record_id}")


def store_lock_check(store: Store) -> LockCheck:
    """The export lock the exchange with buyers' systems asks (PACT footprints, webhooks,
    CBAM packages): the locks in force in ``store``, for one region or, with None, for
    any region. Each locked subject maps to the sentence that says why."""

    def check(subjects: Iterable[str], region: str | None) -> dict[str, str]:
        def work(session: Transaction) -> dict[str, str]:
            found: dict[str, str] = {}
            for subject in subjects:
                for lock in locks_of(session, subject):
                    if region is None or lock.region == region:
                        found[subject] = lock.reason()
                        break
            return found

        return store.run(work, readonly=True)

    return check
