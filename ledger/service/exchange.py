"""The PACT data owner side of the ledger (docs/PACT.md): the footprint index, the
ListFootprints and GetFootprint reads, and the RequestCreated events of buyers.

The index follows the ledger: :meth:`PactService.refresh` turns every newly anchored carbon
record and conversion into a footprint (``ledger.exchange.footprint``), marks the ones a
newly anchored record supersedes and the revoked ones ``Deprecated``, and emits a
``footprint.published`` event for each new or changed footprint (PACT's PublishedEvent
rides on it, docs/EVENTS.md). It runs in the background worker of ``carbonledger up`` and
before every PACT read, so a read never misses an anchored record.

A RequestCreated event is stored (:meth:`accept_request`) and answered later by
:meth:`answer_requests`: a RequestFulfilled event with the matching footprints, or a
RequestRejected one when none matches, queued for delivery to the buyer's registered
events endpoint (never to the event's ``source``, which the buyer wrote).

Every export asks the export lock first (``ledger.service.exportlock``): footprints of a
locked subject are left out of lists and answers and refused by id.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ledger.core.bundle import ChainRef
from ledger.core.canonical import canonicalize, format_timestamp, parse_json
from ledger.core.clock import Clock
from ledger.core.errors import MalformedError, StorageError
from ledger.core.records import Record, validate_record
from ledger.core.view import Commitment, parse_view
from ledger.exchange.cloudevents import (
    CLOUDEVENTS_MEDIA_TYPE,
    FULFILLED,
    PUBLISHED,
    REJECTED,
    CloudEvent,
    make_event,
)
from ledger.exchange.filters import FootprintFilter, Page, parse_date_time
from ledger.exchange.footprint import (
    EXPORTABLE_TYPES,
    Anchor,
    DataOwner,
    NotExportableError,
    footprint_facts,
    pf_id,
    proof_extension,
    render_footprint,
)
from ledger.service.exportlock import LockCheck, locked_subjects, no_lock, require_unlocked
from ledger.store import Store
from ledger.store import access as access_store
from ledger.store import exchange as index
from ledger.store import webhooks as hooks

__all__ = [
    "EVENT_CONTENT_TYPE",
    "FootprintPage",
    "NoEventsEndpointError",
    "PactLimits",
    "PactService",
    "owner_of",
    "record_from_view",
]

EVENT_CONTENT_TYPE = f"{CLOUDEVENTS_MEDIA_TYPE}; charset=UTF-8"
WEBHOOK_FORMAT = "carbonledger-event/1"


class NoEventsEndpointError(MalformedError):
    """A RequestCreated event from a client without a registered events endpoint."""


@dataclass(frozen=True)
class PactLimits:
    #: Records indexed per transaction of a refresh.
    index_batch: int = 500
    #: Footprints in one RequestFulfilled event (the best matches first, in index order).
    max_answer_footprints: int = 1000
    #: PACT requests answered per worker step.
    answer_batch: int = 50


@dataclass(frozen=True)
class FootprintPage:
    data: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def owner_of(role: str, producer: str | None) -> str | None:
    """The producer whose footprints only a principal sees (a producer sees its own
    records only, docs/API.md §2); None for every other role."""
    return producer if role == "producer" else None


def record_from_view(full_view: bytes, what: str) -> Record:
    """The validated record of a stored full view (canonical bytes, docs/FORMAT.md §2.3)."""
    try:
        view = parse_view(parse_json(full_view, root="full_view"), path="full_view")
    except MalformedError as exc:
        raise StorageError(f"{what}: stored full view unreadable: {exc}") from None
    if not isinstance(view, Commitment):
        raise StorageError(f"{what}: stored view is not a full view")
    return validate_record(view.record)


def _keys(facts: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    keys = [("product", v.casefold()) for v in facts["product_ids"]]
    keys += [("classification", v.casefold()) for v in facts["classifications"]]
    geography = facts.get("geography")
    if geography:
        value = str(geography["value"]).casefold()
        keys.append(("geography", value))
        if geography["kind"] == "geographyCountrySubdivision":
            keys.append(("geography", value.split("-", 1)[0]))  # within its country
    return tuple(keys)


def _filter_json(criteria: FootprintFilter) -> dict[str, Any]:
    out = asdict(criteria)
    for name in ("valid_on", "valid_after", "valid_before"):
        if out[name] is not None:
            out[name] = format_timestamp(out[name])
    return out


def _filter_of(stored: Mapping[str, Any]) -> FootprintFilter:
    values = dict(stored)
    for name in ("valid_on", "valid_after", "valid_before"):
        if values.get(name) is not None:
            values[name] = parse_date_time(values[name], name)
    for name in ("product_ids", "company_ids", "geographies", "classifications"):
        values[name] = tuple(values.get(name) or ())
    return FootprintFilter(**values)


class PactService:
    """PACT over one store. ``owner`` names the data owner of every footprint; ``chain`` is
    the deployment the proof extension names (None: footprints carry no extension)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        owner: DataOwner,
        chain: ChainRef | None,
        lock: LockCheck = no_lock,
        public_url: str | None = None,
        limits: PactLimits | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner
        self.chain = chain
        self.lock = lock
        self.public_url = public_url.rstrip("/") if public_url else None
        self.limits = limits or PactLimits()

    @property
    def event_source(self) -> str:
        """The CloudEvents ``source`` of the events this host sends."""
        return f"{self.public_url}/3/events" if self.public_url else "urn:carbonledger:pact"

    # -- the index -------------------------------------------------------------------

    def refresh(self) -> int:
        """Indexes every anchored record not yet indexed; returns how many footprints
        were published or changed. Looks first in a read-only transaction, so an idle
        refresh never takes the store's write lock."""
        changed = 0
        types = EXPORTABLE_TYPES
        while self.store.run(lambda s: index.records_to_index(s, types, limit=1), readonly=True):
            now = self.clock()

            def work(session: Any, now: datetime = now) -> tuple[int, int]:
                return self._index_batch(session, now)

            done, published = self.store.run(work)
            changed += published
            if done == 0:
                break
        if self.store.run(
            lambda s: index.revoked_footprints_to_deprecate(s, limit=1), readonly=True
        ):
            now = self.clock()
            changed += self.store.run(lambda s: self._deprecate_revoked(s, now))
        return changed

    def _index_batch(self, session: Any, now: datetime) -> tuple[int, int]:
        """Indexes one batch of anchored records: footprints and their keys inserted in
        two statements, one event per new or changed footprint."""
        todo = index.records_to_index(session, EXPORTABLE_TYPES, limit=self.limits.index_batch)
        revoked = index.revoked_among(session, [t.digest_hex for t in todo])
        superseded = index.superseded_among(session, [t.record_id for t in todo])
        parsed: dict[str, Record] = {}

        def record_of(record_id: str, full_view: bytes | None = None) -> Record | None:
            if record_id not in parsed:
                raw = full_view if full_view is not None else index.full_view_of(session, record_id)
                if raw is None:
                    return None
                parsed[record_id] = record_from_view(raw, record_id)
            return parsed[record_id]

        added: list[tuple[index.NewFootprint, str, str]] = []
        by_record: dict[str, index.NewFootprint] = {}
        changes: list[tuple[str, str, str]] = []  # (footprint id, record id, state)
        for item in todo:
            record = record_of(item.record_id, item.full_view)
            if record is None:
                continue
            source = rule = None
            if record.type == "factor-substitution":
                source = record_of(record.body["source"]["id"])
                rule = record_of(record.body["rule"]["id"])
            try:
                facts = footprint_facts(record, source=source)
            except NotExportableError as exc:
                index.exclude_from_pact(session, item.record_pk, exc.message, now=now)
                continue
            if rule is not None:
                facts = {**facts, "region": rule.body["region"]}
            preceding: tuple[str, ...] = ()
            link = record.supersedes
            if link is not None:
                earlier = by_record.get(link.id) or index.footprint_by_record(session, link.id)
                preceding = (pf_id(link.digest), *(earlier.preceding if earlier else ()))
            state = "anchored"
            if item.digest_hex in revoked:
                state = "revoked"
            elif item.record_id in superseded:
                state = "superseded"
            new = index.NewFootprint(
                record_pk=item.record_pk,
                pf_id=pf_id(item.digest_hex),
                record_id=item.record_id,
                record_type=item.type,
                producer=item.producer,
                subject=item.subject,
                digest_hex=item.digest_hex,
                validity_start=parse_date_time(facts["validity_start"], "validity_start"),
                validity_end=parse_date_time(facts["validity_end"], "validity_end"),
                preceding=preceding,
                facts=facts,
                batch_seq=item.batch_seq,
                tx_hash=item.tx_hash,
                block_number=item.block_number,
                keys=_keys(facts),
            )
            added.append((new, "Active" if state == "anchored" else "Deprecated", state))
            by_record[item.record_id] = new
            changes.append((new.pf_id, item.record_id, state))
            if link is not None and link.id not in by_record:
                older = index.set_footprint_status(
                    session, link.id, status="Deprecated", state="superseded"
                )
                if older is not None:
                    changes.append((older.pf_id, older.record_id, "superseded"))
        index.add_footprints(session, added, now=now)
        return len(todo), self._publish(session, changes, now)

    def _deprecate_revoked(self, session: Any, now: datetime) -> int:
        changes = []
        for record_id in index.revoked_footprints_to_deprecate(session, limit=1000):
            row = index.set_footprint_status(
                session, record_id, status="Deprecated", state="revoked"
            )
            if row is not None:
                changes.append((row.pf_id, record_id, "revoked"))
        return self._publish(session, changes, now)

    def _publish(self, session: Any, changes: Sequence[tuple[str, str, str]], now: datetime) -> int:
        """One ``footprint.published`` event per (footprint id, record id, state)."""
        items = [
            (
                f"{footprint_id}:{state}",
                {
                    "pfIds": [footprint_id],
                    "record_id": record_id,
                    "status": "Active" if state == "anchored" else "Deprecated",
                    "state": state,
                },
            )
            for footprint_id, record_id, state in changes
        ]
        return emit_events(
            session,
            kind="footprint.published",
            items=items,
            now=now,
            pact_source=self.event_source,
        )

    # -- reads -----------------------------------------------------------------------

    def _anchor(self, row: index.FootprintRow) -> Anchor | None:
        if self.chain is None:
            return None
        return Anchor(
            self.chain.chain_id,
            self.chain.anchor_registry,
            row.batch_seq,
            row.tx_hash,
            row.block_number,
        )

    def render(
        self,
        row: index.FootprintRow,
        base_url: str,
        attestations: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        anchor = self._anchor(row)
        extension = (
            proof_extension(
                base_url=base_url.rstrip("/"),
                record_id=row.record_id,
                record_type=row.record_type,
                digest_hex=row.digest_hex,
                state=row.state,
                anchor=anchor,
            )
            if anchor is not None
            else None
        )
        return render_footprint(
            row.facts,
            digest_hex=row.digest_hex,
            status=row.status,
            preceding=row.preceding,
            owner=self.owner,
            extension=extension,
            attestations=attestations,
        )

    def _render_all(
        self, rows: Sequence[index.FootprintRow], base_url: str
    ) -> list[dict[str, Any]]:
        attested = self.store.run(
            lambda s: index.mined_attestations(s, [r.digest_hex for r in rows]), readonly=True
        )
        return [self.render(r, base_url, attested.get(r.digest_hex, ())) for r in rows]

    def _owner_matches(self, criteria: FootprintFilter) -> bool:
        if not criteria.company_ids:
            return True
        ours = {c.casefold() for c in self.owner.company_ids}
        return any(c in ours for c in criteria.company_ids)

    def _unlocked(self, rows: Sequence[index.FootprintRow]) -> list[index.FootprintRow]:
        locked = locked_subjects(self.lock, [r.subject for r in rows], _region_of(rows))
        return [r for r in rows if r.subject not in locked]

    def list_footprints(
        self, criteria: FootprintFilter, page: Page, *, owner: str | None, base_url: str
    ) -> FootprintPage:
        """One page of the footprints matching ``criteria`` (ListFootprints)."""
        self.refresh()
        if not self._owner_matches(criteria):
            return FootprintPage([], 0, page.offset, page.limit)
        rows, total = self.store.run(
            lambda s: index.list_footprints(
                s, criteria, owner=owner, offset=page.offset, limit=page.limit
            ),
            readonly=True,
        )
        data = self._render_all(self._unlocked(rows), base_url)
        return FootprintPage(data, total, page.offset, page.limit)

    def get_footprint(
        self, footprint_id: str, *, owner: str | None, base_url: str
    ) -> dict[str, Any]:
        """One footprint by id (GetFootprint); deprecated ones are still served."""
        self.refresh()
        row = self.store.run(
            lambda s: index.find_footprint(s, footprint_id, owner=owner), readonly=True
        )
        require_unlocked(self.lock, row.subject, row.facts.get("region"))
        return self._render_all([row], base_url)[0]

    # -- requests ----------------------------------------------------------------------

    def accept_request(self, principal: str, event: CloudEvent, base_url: str) -> bool:
        """Stores a RequestCreated event for a later answer; False for a repeated event.

        Raises ``NoEventsEndpointError`` when the principal has no events endpoint to
        answer to (refused at once, as PACT asks of a request that cannot be handled)."""
        if event.criteria is None:
            raise MalformedError("not a RequestCreated event", path="event.type")
        criteria = event.criteria
        now = self.clock()
        key = hashlib.sha256(event.source.encode() + b"\x00" + event.id.encode()).hexdigest()

        def work(session: Any) -> bool:
            if hooks.pact_subscription_of(session, principal) is None:
                raise NoEventsEndpointError(
                    f"client {principal} has no registered PACT events endpoint to answer to",
                    path="event.source",
                )
            return index.add_pact_request(
                session,
                principal=principal,
                event_key_hex=key,
                event_id=event.id,
                source=event.source,
                criteria=_filter_json(criteria),
                base_url=base_url.rstrip("/"),
                received_at=now,
            )

        return self.store.run(work)

    def answer_requests(self) -> int:
        """Answers pending RequestCreated events; returns how many were answered."""
        self.refresh()
        pending = self.store.run(
            lambda s: index.pending_pact_requests(s, limit=self.limits.answer_batch),
            readonly=True,
        )
        for request in pending:
            self._answer(request)
        return len(pending)

    def _answer(self, request: index.PactRequestRow) -> None:
        criteria = _filter_of(request.criteria)

        def principal_owner(session: Any) -> str | None:
            p = access_store.get_principal(session, request.principal)
            return owner_of(p.role, p.producer)

        owner = self.store.run(principal_owner, readonly=True)
        rows: list[index.FootprintRow] = []
        if self._owner_matches(criteria):
            found, _ = self.store.run(
                lambda s: index.list_footprints(
                    s, criteria, owner=owner, offset=0, limit=self.limits.max_answer_footprints
                ),
                readonly=True,
            )
            rows = self._unlocked(found)
        now = self.clock()
        message_id = f"msg_{secrets.token_hex(16)}"
        if rows:
            event_type, state = FULFILLED, "fulfilled"
            data: dict[str, Any] = {
                "requestEventId": request.event_id,
                "pfs": self._render_all(rows, request.base_url),
            }
        else:
            event_type, state = REJECTED, "rejected"
            data = {
                "requestEventId": request.event_id,
                "error": {
                    "code": "NotFound",
                    "message": "The requested footprint could not be found.",
                },
            }
        body = canonicalize(
            make_event(
                event_type,
                event_id=message_id,
                source=f"{request.base_url}/3/events",
                time=now,
                data=data,
            )
        )

        def work(session: Any) -> None:
            endpoint = hooks.pact_subscription_of(session, request.principal)
            index.mark_request(session, request.id, state=state, at=now)
            if endpoint is None:
                return  # the client removed its endpoint: nothing to answer to
            hooks.enqueue_delivery(
                session,
                subscription_id=endpoint.id,
                message_id=message_id,
                content_type=EVENT_CONTENT_TYPE,
                body=body,
                now=now,
            )

        self.store.run(work)


def _region_of(rows: Sequence[index.FootprintRow]) -> str | None:
    regions = {r.facts.get("region") for r in rows}
    return regions.pop() if len(regions) == 1 else None


def emit_events(
    session: Any,
    *,
    kind: str,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    now: datetime,
    pact_source: str,
) -> int:
    """Records each fact ``(key, payload)`` once and queues a delivery to every subscriber
    of its kind: the ``carbonledger-event/1`` envelope for webhooks, and PACT's
    PublishedEvent for the PACT endpoints of buyers when a footprint is published
    (docs/EVENTS.md §3). Returns how many events were new."""
    events = hooks.add_events(session, kind=kind, items=items, now=now)
    if not events:
        return 0
    deliveries = []
    subscribers = hooks.subscribers_of(session, kind)
    for event in events:
        for subscription in subscribers:
            message_id = f"msg_{secrets.token_hex(16)}"
            if subscription.kind == "webhook":
                content_type = "application/json"
                body = canonicalize(
                    {
                        "format": WEBHOOK_FORMAT,
                        "id": f"evt_{event.id}",
                        "type": kind,
                        "time": format_timestamp(now.replace(microsecond=0)),
                        "data": dict(event.payload),
                    }
                )
            elif kind == "footprint.published":
                content_type = EVENT_CONTENT_TYPE
                body = canonicalize(
                    make_event(
                        PUBLISHED,
                        event_id=message_id,
                        source=pact_source,
                        time=now,
                        data={"pfIds": list(event.payload["pfIds"])},
                    )
                )
            else:
                continue
            deliveries.append(
                hooks.NewDelivery(subscription.id, message_id, content_type, body, event.id)
            )
    hooks.enqueue_deliveries(session, deliveries, now=now)
    return len(events)
