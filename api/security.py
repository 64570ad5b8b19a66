"""Keys, sessions and the audit log, as the routes and pages call them (docs/API.md §2).

- API keys: an admin issues a key at once for a producer or an auditor; for a regulator or
  an admin the request waits for a second admin's confirmation (the two-person rule,
  ``ledger.store.apikeys``). Revoking a key ends its page sessions.
- Page sessions live on the server (``ledger.store.sessions``): signing out ends one.
- Audit: every key issued, requested, confirmed, cancelled or revoked, every session ended,
  and every privileged read (a regulator or an auditor reading records in full) is an
  event regulators read.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from api.auth import Caller, require_role
from api.problems import ForbiddenError
from ledger.core.canonical import format_timestamp
from ledger.core.errors import StorageError
from ledger.store import Store, apikeys
from ledger.store import access as access_store
from ledger.store.auditlog import AuditEvent, audit_events, record_event
from ledger.store.sessions import (
    end_session,
    live_session_principal,
    open_session,
    purge_sessions,
)

__all__ = ["AccessService", "KeyAnswer", "privileged"]

#: Roles whose reads of records in full are audited.
AUDITED_READERS = ("regulator", "auditor")
#: Expired page sessions deleted per sign-in (the table holds about one lifetime of them).
SESSION_PURGE_BATCH = 20


def privileged(caller: Caller, *, full: bool) -> bool:
    """Whether a read is privileged: records in full to a regulator or an auditor."""
    return full and caller.role in AUDITED_READERS


def _ts(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class KeyAnswer:
    """A key made now (``key``) or a key request waiting for a second admin (``request``)."""

    key: dict[str, Any] | None
    request: dict[str, Any] | None


def request_json(row: apikeys.KeyRequest) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "principal": row.principal,
        "requested_by": row.requested_by,
        "requested_at": format_timestamp(row.requested_at),
        "expires_at": format_timestamp(row.expires_at),
        "state": row.state,
    }


def event_json(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": format_timestamp(row.at),
        "kind": row.kind,
        "actor": row.actor,
        "principal": row.principal,
        "key_id": row.key_id,
        "target": row.target,
    }


class AccessService:
    def __init__(self, *, store: Store, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    # -- keys ------------------------------------------------------------------------

    def issue_key(self, caller: Caller, principal: str) -> KeyAnswer:
        require_role(caller, "admin")
        actor, now = str(caller.name), self.clock()
        grant = self.store.run(lambda s: apikeys.issue_key(s, principal, actor=actor, at=now))
        if grant.request is not None:
            return KeyAnswer(None, request_json(grant.request))
        if grant.key is None:
            raise StorageError(f"no key was issued for {principal}")
        return KeyAnswer(_key_json(grant.key), None)

    def key_requests(self, caller: Caller) -> list[dict[str, Any]]:
        require_role(caller, "admin")
        now = self.clock()
        rows = self.store.run(lambda s: apikeys.pending_key_requests(s, now=now), readonly=True)
        return [request_json(r) for r in rows]

    def confirm_key_request(self, caller: Caller, request_id: str) -> dict[str, Any]:
        require_role(caller, "admin")
        actor, now = str(caller.name), self.clock()
        issued = self.store.run(
            lambda s: apikeys.confirm_key_request(s, request_id, actor=actor, at=now)
        )
        return _key_json(issued)

    def cancel_key_request(self, caller: Caller, request_id: str) -> None:
        require_role(caller, "admin")
        actor, now = str(caller.name), self.clock()
        self.store.run(lambda s: apikeys.cancel_key_request(s, request_id, actor=actor, at=now))

    def key(self, caller: Caller, key_id: str) -> dict[str, Any]:
        require_role(caller, "admin")

        def read(session: Any) -> dict[str, Any]:
            row = access_store.get_api_key(session, key_id)
            return {
                "key_id": row.key_id,
                "principal": row.principal,
                "created_at": format_timestamp(row.created_at),
                "revoked_at": _ts(row.revoked_at),
            }

        return self.store.run(read, readonly=True)

    def revoke_key(self, caller: Caller, key_id: str) -> None:
        require_role(caller, "admin")
        actor, now = str(caller.name), self.clock()
        self.store.run(lambda s: apikeys.revoke_key(s, key_id, actor=actor, at=now))

    # -- the audit log -----------------------------------------------------------------

    def audit(
        self, caller: Caller, *, after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        require_role(caller, "regulator")
        page = self.store.run(lambda s: audit_events(s, after=after, limit=limit), readonly=True)
        return [event_json(e) for e in page.items], page.next_after

    def note_read(self, caller: Caller, target: str) -> None:
        """Record a privileged read by ``caller`` of ``target`` (see ``privileged``)."""
        actor, key_id, now = str(caller.name), caller.key_id, self.clock()
        self.store.run(
            lambda s: record_event(
                s,
                kind="privileged_read",
                at=now,
                actor=actor,
                principal=actor,
                key_id=key_id,
                target=target,
            )
        )

    # -- page sessions -----------------------------------------------------------------

    def open_page_session(self, caller: Caller, *, ttl_s: int) -> tuple[str, datetime]:
        """A new session for ``caller`` (signed in with key ``caller.key_id``): its token
        (for the cookie, never stored) and its expiry."""
        if caller.name is None or caller.key_id is None:
            raise ForbiddenError("only a caller signed in with an API key opens a page session")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + timedelta(seconds=ttl_s)
        name, key_id = caller.name, caller.key_id

        def work(session: Any) -> None:
            purge_sessions(session, expired_before=now, limit=SESSION_PURGE_BATCH)
            open_session(
                session,
                token_sha256_hex=_token_hash(token),
                principal=name,
                key_id=key_id,
                created_at=now,
                expires_at=expires,
            )

        self.store.run(work)
        return token, expires

    def page_caller(self, token: str) -> Caller | None:
        """The caller of a page session that still counts, or None."""
        digest, now = _token_hash(token), self.clock()

        def read(session: Any) -> Caller | None:
            found = live_session_principal(session, digest, now=now)
            return None if found is None else Caller.of(found[0], key_id=found[1])

        return self.store.run(read, readonly=True)

    def end_page_session(self, token: str, caller: Caller) -> None:
        """Sign out: the session ends now, whoever holds a copy of its cookie."""
        digest, now = _token_hash(token), self.clock()
        actor = caller.name or "anonymous"

        def work(session: Any) -> None:
            if end_session(session, digest, at=now, reason="signed out"):
                record_event(
                    session,
                    kind="session_ended",
                    at=now,
                    actor=actor,
                    principal=caller.name,
                    key_id=caller.key_id,
                    target="signed out",
                )

        self.store.run(work)


def _key_json(issued: access_store.IssuedKey) -> dict[str, Any]:
    return {"key_id": issued.key_id, "principal": issued.principal, "api_key": issued.token}
