"""Who reads what in full, on which basis, and the log of every such read (docs/API.md
§2.1).

``Readers.reading(caller)`` is the caller's read access now: the role's rules of
``api.auth.access_for``, and for the roles that read by grant the grants in force this
instant (so a grant that expires ends access at once, whatever session is open):

- ``enterprise``: its own enterprise (the id it names) and the equipment under its Handle
  prefixes, in full;
- ``bidder``, ``financial-institution``: the public view, plus what each live grant covers
  (``ratings``: the enterprise's ratings; ``carbon``: its equipment's records; ``all``).

Every read of a record's non-public view (a confidential record shown in full, docs/
RECORDS.md §4), through the API, the pages or a bundle, is written to the access log with
the basis it rested on: a grant's id, or the reader's standing (``role:regulator``,
``auditor-grant``, ``own-records``, ``own-enterprise``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from api.auth import Caller, access_for
from ledger.core.bundle import Bundle
from ledger.core.policy import is_confidential, is_confidential_set
from ledger.core.view import Commitment
from ledger.service.profiles import ProfileQueries
from ledger.service.query import PUBLIC, Access
from ledger.store import Store, grants

__all__ = ["BASIS_OF_ROLE", "Readers", "Reading", "bundle_reads"]

#: The standing a role reads in full on, as the access log names it.
BASIS_OF_ROLE = {
    "regulator": "role:regulator",
    "auditor": "auditor-grant",
    "producer": "own-records",
    "enterprise": "own-enterprise",
}


@dataclass(frozen=True)
class Reading:
    """A caller's read access at one instant; ``grant_of`` names the grant that covers
    each subject a grant-reader sees in full."""

    caller: Caller
    access: Access
    grant_of: Mapping[str, str] = field(default_factory=dict)

    def basis(self, subject: str) -> str:
        return self.grant_of.get(subject) or BASIS_OF_ROLE.get(self.caller.role, "public")


@dataclass(frozen=True)
class Read:
    """One read to log: ``action`` (``record``, ``bundle``, ``enterprise``), what it was
    (``target``), the subject it concerns and how many records it showed in full."""

    action: str
    target: str
    subject: str
    records: int = 1


def bundle_reads(bundle: Bundle, target: str) -> list[Read]:
    """The confidential records a bundle holds in full, one ``Read`` per subject."""
    items = (*bundle.items, *bundle.closure)
    full = [i.view.record for i in items if isinstance(i.view, Commitment)]
    sets = {str(r.get("id")) for r in full if is_confidential_set(r)}
    per_subject: dict[str, int] = {}
    for record in full:
        if is_confidential(record, confidential_sets=sets):
            subject = str(record.get("subject"))
            per_subject[subject] = per_subject.get(subject, 0) + 1
    return [Read("bundle", target, s, n) for s, n in per_subject.items()]


class Readers:
    """Read access by role and grant, access requests, and the access log."""

    def __init__(
        self, *, store: Store, clock: Callable[[], datetime], profiles: ProfileQueries
    ) -> None:
        self.store = store
        self.clock = clock
        self.profiles = profiles

    def reading(self, caller: Caller) -> Reading:
        if caller.role == "enterprise" and caller.name is not None:
            own = next(iter(caller.grants), None)
            subjects = frozenset(self.profiles.subjects_of(own)) if own else frozenset()
            return Reading(caller, Access(full_subjects=subjects))
        if caller.role in grants.READER_ROLES and caller.name is not None:
            return self._granted(caller)
        if caller.role in ("bidder", "financial-institution", "admin"):
            return Reading(caller, PUBLIC)
        return Reading(caller, access_for(caller))

    def _granted(self, caller: Caller) -> Reading:
        name, now = str(caller.name), self.clock()
        live = self.store.run(lambda s: grants.live_grants(s, name, now=now), readonly=True)
        grant_of: dict[str, str] = {}
        for grant in sorted(live, key=lambda g: g.request_id):
            subjects = self.profiles.subjects_of(grant.enterprise_id)
            covered = {
                "ratings": subjects[:1],
                "carbon": subjects[1:],
                "all": subjects,
            }[grant.scope]
            for subject in covered:
                grant_of.setdefault(subject, grant.request_id)
        return Reading(caller, Access(full_subjects=frozenset(grant_of)), grant_of)

    def access(self, caller: Caller) -> Access:
        return self.reading(caller).access

    # -- the log ---------------------------------------------------------------------

    def note(self, reading: Reading, reads: Iterable[Read], *, channel: str) -> None:
        """Write ``reads`` (non-public views ``reading``'s caller was shown) to the log."""
        caller = reading.caller
        if caller.name is None:
            return
        entries = [
            grants.LoggedRead(
                principal=caller.name,
                role=caller.role,
                channel=channel,
                action=r.action,
                target=r.target,
                subject=r.subject,
                enterprise_id=self.profiles.enterprise_of(r.subject),
                basis=reading.basis(r.subject),
                records=r.records,
            )
            for r in reads
        ]
        if entries:
            now = self.clock()
            self.store.run(lambda s: grants.log_reads(s, entries, at=now))

    def note_record(
        self, reading: Reading, record: Mapping[str, object] | None, *, channel: str
    ) -> None:
        """Log a record shown in full when the public sees it redacted."""
        if record is not None:
            rid, subject = str(record.get("id")), str(record.get("subject"))
            self.note(reading, [Read("record", rid, subject)], channel=channel)
