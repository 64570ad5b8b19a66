"""What the registry routes and the pages call (docs/API.md §3.8, docs/PAGES.md §1): the
search, the listings of enterprises and equipment, their pages, the warning list, the
whitelist, the public register, the document check, the home page's figures, the
enterprise register and authorised readers' access requests.

Function-level checks (which role may call what) are made here; what each caller sees
of the records is its ``Reading`` (``api.readers``), applied below in the queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from api.auth import Caller, require_role
from api.problems import ForbiddenError
from api.readers import Read, Readers
from ledger.core.errors import MalformedError, NotFoundError
from ledger.service.profiles import ProfileQueries
from ledger.service.registry import GREEN_GRADES, RegistryQueries
from ledger.service.registrymodels import (
    DocumentMatch,
    EnterpriseDetail,
    EnterpriseRow,
    EquipmentDetail,
    HomeFigures,
    LatestEvaluation,
    Listing,
    SearchHit,
    SearchResult,
    WarningRow,
    WhitelistEntry,
)
from ledger.store import Store, grants
from ledger.store.directory import DirectoryEntry, StoredEquipment
from ledger.store.grants import StoredGrant, StoredLogEntry
from ledger.store.indexes import register_enterprise
from ledger.store.listings import EnterpriseFilter, EquipmentFilter

__all__ = ["ENTERPRISE_ID_PATTERN", "RegistryService", "hit_url"]

MAX_NAME_CHARS = 400
#: What the register accepts as an enterprise id: a URN, as records name enterprises
#: (``urn:carbonledger:enterprise:…``; docs/API.md §3.8).
ENTERPRISE_ID_PATTERN = r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[!-~]{1,360}$"
MAX_PREFIXES = 20


def hit_url(hit: SearchHit) -> str:
    """The page a search hit leads to."""
    if hit.kind == "enterprise":
        return "/enterprise?" + urlencode({"id": hit.key})
    if hit.kind == "equipment":
        return "/equipment/view?" + urlencode({"subject": hit.key})
    if hit.kind == "batch":
        return "/batch?" + urlencode({"seq": hit.key})
    return "/record?" + urlencode({"id": hit.key})


def _region(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > 16 or not all(c.isalnum() or c == "-" for c in value):
        raise MalformedError("expected a region code like CN-JS, EU or GB", path="region")
    return value


class RegistryService:
    def __init__(self, *, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.registry = RegistryQueries(store, clock=clock)
        self.profiles = ProfileQueries(store, clock=clock)
        self.readers = Readers(store=store, clock=clock, profiles=self.profiles)

    # -- reads -------------------------------------------------------------------------

    def search(self, caller: Caller, text: str) -> SearchResult:
        return self.registry.search(text, self.readers.access(caller))

    def enterprises(self, f: EnterpriseFilter, *, page: int, limit: int) -> Listing[EnterpriseRow]:
        return self.registry.enterprises(f, page=page, limit=limit)

    def green(self, region: str | None, *, page: int, limit: int) -> Listing[EnterpriseRow]:
        """The public register: enterprises rated AAA, AA or A (their public facts)."""
        f = EnterpriseFilter(grades=GREEN_GRADES, region=_region(region))
        return self.registry.enterprises(f, page=page, limit=limit)

    def enterprise(
        self, caller: Caller, enterprise_id: str, *, channel: str = "api"
    ) -> EnterpriseDetail:
        reading = self.readers.reading(caller)
        detail = self.profiles.enterprise(enterprise_id, reading.access)
        full = sum(1 for r in detail.ratings if r.full)
        if full:
            # Ratings are confidential (their scores): a full view of them is logged.
            read = Read("enterprise", enterprise_id, enterprise_id, full)
            self.readers.note(reading, [read], channel=channel)
        return detail

    def latest_evaluation(self, caller: Caller, enterprise_id: str) -> LatestEvaluation | None:
        """The enterprise's latest carbon-efficiency evaluation the caller may see."""
        return self.profiles.latest_evaluation(enterprise_id, self.readers.access(caller))

    def equipment_list(
        self, f: EquipmentFilter, *, page: int, limit: int
    ) -> Listing[StoredEquipment]:
        return self.registry.equipment_list(f, page=page, limit=limit)

    def equipment(self, caller: Caller, subject: str) -> EquipmentDetail:
        return self.profiles.equipment(subject, self.readers.access(caller))

    def warnings(self, status: str | None, *, page: int, limit: int) -> Listing[WarningRow]:
        return self.registry.warnings(status, page=page, limit=limit)

    def whitelist(self, region: str | None) -> tuple[WhitelistEntry, ...]:
        return self.registry.whitelist(_region(region))

    def documents(self, caller: Caller, sha256_hex: str) -> tuple[DocumentMatch, ...]:
        return self.registry.documents(sha256_hex, self.readers.access(caller))

    def home(self) -> HomeFigures:
        return self.registry.home()

    # -- the enterprise register (regulators) ------------------------------------------

    def register(
        self,
        caller: Caller,
        enterprise_id: str,
        *,
        name_en: str | None,
        name_zh: str | None,
        region: str | None,
        handle_prefixes: list[str],
    ) -> EnterpriseDetail:
        name = require_role(caller, "regulator")
        if not re.fullmatch(ENTERPRISE_ID_PATTERN, enterprise_id):
            raise MalformedError(
                "an enterprise id is a URN such as urn:carbonledger:enterprise:name", path="id"
            )
        for path, value in (("name_en", name_en), ("name_zh", name_zh)):
            if value is not None and not (0 < len(value) <= MAX_NAME_CHARS):
                raise MalformedError(f"1 to {MAX_NAME_CHARS} characters", path=path)
        if len(handle_prefixes) > MAX_PREFIXES:
            raise MalformedError(f"at most {MAX_PREFIXES} prefixes", path="handle_prefixes")
        prefixes = []
        for i, prefix in enumerate(handle_prefixes):
            if (
                not prefix
                or "/" in prefix
                or len(prefix) > 256
                or not all(c.isascii() and (c.isalnum() or c in ".-") for c in prefix)
            ):
                raise MalformedError(
                    "a Handle prefix like 88.118.8 (ASCII letters, digits, '.', '-')",
                    path=f"handle_prefixes[{i}]",
                )
            prefixes.append(prefix.lower())
        entry = DirectoryEntry(
            enterprise_id, name_en, name_zh, _region(region), tuple(dict.fromkeys(prefixes))
        )
        now = self.clock()
        self.store.run(lambda s: register_enterprise(s, entry, at=now, by=name))
        return self.profiles.enterprise(enterprise_id, self.readers.access(caller))

    # -- access requests ---------------------------------------------------------------

    def request_access(
        self, caller: Caller, enterprise_id: str, *, scope: str, purpose: str, days: int
    ) -> StoredGrant:
        name = require_role(caller, *grants.READER_ROLES)
        now = self.clock()
        self.profiles.enterprise(enterprise_id, self.readers.access(caller))  # 404 if unknown
        return self.store.run(
            lambda s: grants.add_request(
                s,
                requester=name,
                role=caller.role,
                enterprise_id=enterprise_id,
                scope=scope,
                purpose=purpose,
                days=days,
                now=now,
            )
        )

    def _decider(self, caller: Caller, request_id: str) -> tuple[str, StoredGrant]:
        """The caller may decide on (or revoke) the request: the regulator always, the
        enterprise for a request about itself (docs/API.md §2.1)."""
        name = require_role(caller, "regulator", "enterprise")
        now = self.clock()
        found = self.store.run(lambda s: grants.get_request(s, request_id, now=now), readonly=True)
        if caller.role == "enterprise" and found.enterprise_id not in caller.grants:
            raise NotFoundError(f"no access request {request_id!r}")
        return name, found

    def decide(
        self, caller: Caller, request_id: str, *, approve: bool, note: str | None
    ) -> StoredGrant:
        name, _found = self._decider(caller, request_id)
        now = self.clock()
        return self.store.run(
            lambda s: grants.decide_request(
                s, request_id, approve=approve, by=name, as_role=caller.role, note=note, now=now
            )
        )

    def end(self, caller: Caller, request_id: str) -> StoredGrant:
        """Revoke a live grant (regulator, or the enterprise it is about) or withdraw a
        pending request (its requester)."""
        now = self.clock()
        if caller.role in grants.READER_ROLES:
            name = str(caller.name)
            found = self.store.run(
                lambda s: grants.get_request(s, request_id, now=now), readonly=True
            )
            if found.requester != name:
                raise NotFoundError(f"no access request {request_id!r}")
            return self.store.run(
                lambda s: grants.end_request(s, request_id, to="withdrawn", by=name, now=now)
            )
        name, _found = self._decider(caller, request_id)
        return self.store.run(
            lambda s: grants.end_request(s, request_id, to="revoked", by=name, now=now)
        )

    def requests(self, caller: Caller) -> list[StoredGrant]:
        """A reader's own requests; the requests about an enterprise for it; all for the
        regulator."""
        now = self.clock()
        if caller.role in grants.READER_ROLES and caller.name is not None:
            name = caller.name
            return self.store.run(
                lambda s: grants.list_requests(s, now=now, requester=name), readonly=True
            )
        if caller.role == "enterprise":
            own = list(caller.grants)
            return self.store.run(
                lambda s: grants.list_requests(s, now=now, enterprise_ids=own), readonly=True
            )
        require_role(caller, "regulator")
        return self.store.run(lambda s: grants.list_requests(s, now=now), readonly=True)

    def access_log(
        self, caller: Caller, *, before: int | None, limit: int
    ) -> tuple[list[StoredLogEntry], int | None]:
        """The regulator reads every entry; an enterprise those about its own data."""
        require_role(caller, "regulator", "enterprise")
        if caller.role == "enterprise":
            own = list(caller.grants)
            if not own:
                raise ForbiddenError("this enterprise principal names no enterprise")
            return self.store.run(
                lambda s: grants.access_log(s, before=before, limit=limit, enterprise_ids=own),
                readonly=True,
            )
        return self.store.run(
            lambda s: grants.access_log(s, before=before, limit=limit), readonly=True
        )
