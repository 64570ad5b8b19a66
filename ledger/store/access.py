"""Who may call the API: principals, their API keys (stored hashed) and idempotency keys.

These tables live apart from ``ledger/store/models.py`` (they describe callers, not
ledger facts) but on the same ``Base``, so Alembic's environment and the schema
comparison see them once this module is imported; migration ``0002`` imports it.

API keys: ``clk_<key_id>_<secret>``, where ``key_id`` is 16 random hex characters (the
look-up handle, safe to log) and ``secret`` 32 random bytes in base64url. Only SHA-256 of
the secret is stored. A slow password hash is not needed: the secret carries 256 bits of
entropy, so nothing can be guessed from its hash (OWASP Password Storage Cheat Sheet is
about low-entropy passwords). Comparison is constant-time.

Idempotency keys (draft-ietf-httpapi-idempotency-key-header, docs/API.md §3.1):
scoped to the principal, fingerprinted by SHA-256 of the request body. A key is first
claimed ``in_flight``, then completed with the response; a retry with the same body
replays the stored response byte for byte, a different body is refused, a retry while the
first request runs gets a conflict. A claim older than ``stale_after_s`` is taken over,
so a crash between the two steps does not lock the key forever.

Keys expire ``retain_s`` after their claim (default 24 h, ``DEFAULT_IDEMPOTENCY_RETENTION_S``;
the draft asks servers to publish an expiry policy, §2.3). Inside that window a retry
replays the stored response; after it the same key is a fresh request, whether or not the
row has been purged yet. ``purge_idempotency_keys`` deletes at most ``limit`` expired rows,
oldest first (index ``ix_idempotency_keys_claimed_at``, migration 0004); the API calls it
with every claim, so the table holds about one retention window of keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    delete,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.core.errors import ConflictError, MalformedError, NotFoundError
from ledger.store._session import flush
from ledger.store.models import Base
from ledger.store.types import (
    MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_PRINCIPAL_CHARS,
    MAX_PRODUCER_CHARS,
)

__all__ = [
    "DEFAULT_IDEMPOTENCY_RETENTION_S",
    "ROLES",
    "ApiKey",
    "IdempotencyKey",
    "IdempotencyKeyReusedError",
    "IssuedKey",
    "Principal",
    "StoredResponse",
    "add_principal",
    "api_key_id",
    "authenticate",
    "claim_idempotency_key",
    "complete_idempotency_key",
    "get_api_key",
    "get_principal",
    "issue_api_key",
    "list_principals",
    "live_key_principal",
    "purge_idempotency_keys",
    "release_idempotency_key",
    "revoke_api_key",
]

#: ``enterprise``: an enterprise reading its own data in full (``grants`` names its id);
#: ``bidder`` and ``financial-institution``: the public view until an enterprise's data is
#: granted to them (``ledger.store.grants``, migration 0009).
ROLES = (
    "producer",
    "auditor",
    "regulator",
    "admin",
    "enterprise",
    "bidder",
    "financial-institution",
)
KEY_PREFIX = "clk_"
DEFAULT_IDEMPOTENCY_RETENTION_S = 24 * 3600.0


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Principal(Base):
    """A caller of the API with one role.

    ``producer`` is the producer identity a ``producer`` principal writes as (the records'
    ``producer`` member) and ``record_types`` the types it may submit. ``grants`` lists the
    subjects an ``auditor`` reads in full (``["*"]``: every subject).
    """

    __tablename__ = "principals"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    name: Mapped[str] = mapped_column(String(MAX_PRINCIPAL_CHARS), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    producer: Mapped[str | None] = mapped_column(String(MAX_PRODUCER_CHARS), index=True)
    record_types: Mapped[list[str]] = mapped_column(JSON)
    grants: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(ForeignKey("principals.name"), index=True)
    secret_sha256_hex: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (CheckConstraint(_in("state", ("in_flight", "done")), name="state"),)

    principal: Mapped[str] = mapped_column(ForeignKey("principals.name"), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_IDEMPOTENCY_KEY_CHARS), primary_key=True)
    request_sha256_hex: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(index=True)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)


class IdempotencyKeyReusedError(MalformedError):
    """The same Idempotency-Key came with another request body (draft §2.7: 422)."""


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: ``token`` is shown once and never stored."""

    key_id: str
    principal: str
    token: str


def _check_name(name: str) -> str:
    if not (isinstance(name, str) and 1 <= len(name) <= MAX_PRINCIPAL_CHARS and name.isprintable()):
        raise MalformedError(
            f"expected 1 to {MAX_PRINCIPAL_CHARS} printable characters", path="name"
        )
    return name


def add_principal(
    session: Session,
    name: str,
    *,
    role: str,
    created_at: datetime,
    producer: str | None = None,
    record_types: list[str] | None = None,
    grants: list[str] | None = None,
) -> Principal:
    if role not in ROLES:
        raise MalformedError(f"unknown role {role!r}; known: {', '.join(ROLES)}", path="role")
    if (role == "producer") != (producer is not None):
        raise MalformedError(
            "a producer principal, and only one, names its producer", path="producer"
        )
    if role == "enterprise" and len(grants or []) != 1:
        raise MalformedError(
            "an enterprise principal names its enterprise id as its one grant", path="grants"
        )
    if role in ("bidder", "financial-institution") and grants:
        raise MalformedError(
            "a bidder or a financial institution is granted access by request, not here",
            path="grants",
        )
    row = Principal(
        name=_check_name(name),
        role=role,
        producer=producer,
        record_types=list(record_types or []),
        grants=list(grants or []),
        created_at=created_at,
        disabled_at=None,
    )
    session.add(row)
    flush(session)
    return row


def get_principal(session: Session, name: str) -> Principal:
    row = session.get(Principal, name)
    if row is None:
        raise NotFoundError(f"no principal {name!r}")
    return row


def list_principals(session: Session) -> list[Principal]:
    return list(session.scalars(select(Principal).order_by(Principal.name)))


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def issue_api_key(session: Session, principal: str, *, created_at: datetime) -> IssuedKey:
    get_principal(session, principal)
    key_id = secrets.token_hex(8)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    session.add(
        ApiKey(
            key_id=key_id,
            principal=principal,
            secret_sha256_hex=_secret_hash(secret),
            created_at=created_at,
            revoked_at=None,
        )
    )
    flush(session)
    return IssuedKey(key_id, principal, f"{KEY_PREFIX}{key_id}_{secret}")


def get_api_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFoundError(f"no API key {key_id!r}")
    return row


def revoke_api_key(session: Session, key_id: str, *, at: datetime) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFoundError(f"no API key {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = at
        flush(session)
    return row


def api_key_id(token: str) -> str | None:
    """The key id of an API key ``clk_<key_id>_<secret>`` (the look-up handle), or None."""
    if not token.startswith(KEY_PREFIX) or len(token) > 120:
        return None
    key_id, sep, secret = token[len(KEY_PREFIX) :].partition("_")
    if not sep or len(key_id) != 16 or not secret:
        return None
    return key_id


def live_key_principal(session: Session, key_id: str, principal: str) -> Principal | None:
    """``principal`` while ``key_id`` is one of its API keys, not revoked, and it is not
    disabled, else None: what every later use of a key (a page session, a PACT access
    token) must still hold."""
    key = session.get(ApiKey, key_id)
    if key is None or key.revoked_at is not None or key.principal != principal:
        return None
    row = session.get(Principal, principal)
    return None if row is None or row.disabled_at is not None else row


def authenticate(session: Session, token: str) -> Principal | None:
    """The enabled principal owning ``token``, or None for any unknown or revoked key."""
    key_id = api_key_id(token)
    if key_id is None:
        return None
    secret = token[len(KEY_PREFIX) + len(key_id) + 1 :]
    row = session.get(ApiKey, key_id)
    # Hash the presented secret even for an unknown key id, so timing says nothing.
    presented = _secret_hash(secret) if secret.isascii() else ""
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(presented, row.secret_sha256_hex):
        return None
    principal = session.get(Principal, row.principal)
    if principal is None or principal.disabled_at is not None:
        return None
    return principal


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes


def claim_idempotency_key(
    session: Session,
    *,
    principal: str,
    key: str,
    request_sha256_hex: str,
    now: datetime,
    stale_after_s: float = 60.0,
    retain_s: float = DEFAULT_IDEMPOTENCY_RETENTION_S,
) -> StoredResponse | None:
    """Claims ``key`` for this request; returns the stored response of a completed one.

    Raises ``IdempotencyKeyReusedError`` for another body under the same key and
    ``ConflictError`` while the first request with this key is still running. A key
    claimed ``retain_s`` or longer ago has expired: it is claimed afresh.
    """
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_CHARS or not key.isascii() or not key.isprintable():
        raise MalformedError(
            f"expected 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters",
            path="Idempotency-Key",
        )
    if retain_s <= stale_after_s:
        # Otherwise a claim still running could expire and be purged under it.
        raise MalformedError("retention must exceed the stale-claim time", path="retain_s")
    row = session.get(IdempotencyKey, (principal, key), with_for_update=True)
    if row is not None and now - row.claimed_at >= timedelta(seconds=retain_s):
        row.request_sha256_hex = request_sha256_hex
        row.state = "in_flight"
        row.claimed_at = now
        row.response_status = None
        row.response_body = None
        flush(session)
        return None
    if row is not None:
        if row.request_sha256_hex != request_sha256_hex:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key was used with another request body", path="Idempotency-Key"
            )
        if row.state == "done" and row.response_status is not None:
            return StoredResponse(row.response_status, row.response_body or b"")
        if now - row.claimed_at < timedelta(seconds=stale_after_s):
            raise ConflictError("a request with this Idempotency-Key is still being processed")
        row.claimed_at = now
        flush(session)
        return None
    session.add(
        IdempotencyKey(
            principal=principal,
            key=key,
            request_sha256_hex=request_sha256_hex,
            state="in_flight",
            claimed_at=now,
        )
    )
    flush(session)
    return None


def complete_idempotency_key(
    session: Session, *, principal: str, key: str, status: int, body: bytes
) -> None:
    row = session.get(IdempotencyKey, (principal, key))
    if row is None:
        raise NotFoundError(f"no claim of Idempotency-Key {key!r}")
    row.state = "done"
    row.response_status = status
    row.response_body = body
    flush(session)


def release_idempotency_key(session: Session, *, principal: str, key: str) -> None:
    """Drops an unfinished claim (the request failed), so a retry runs afresh."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.principal == principal,
            IdempotencyKey.key == key,
            IdempotencyKey.state == "in_flight",
        )
    )


def purge_idempotency_keys(session: Session, *, cutoff: datetime, limit: int) -> int:
    """Deletes at most ``limit`` keys claimed at or before ``cutoff``, oldest first.

    Returns how many went. The delete repeats the time condition, so a key claimed afresh
    by a concurrent request after the look-up is not deleted under it.
    """
    if limit < 1:
        return 0
    expired = session.execute(
        select(IdempotencyKey.principal, IdempotencyKey.key)
        .where(IdempotencyKey.claimed_at <= cutoff)
        .order_by(IdempotencyKey.claimed_at)
        .limit(limit)
    ).all()
    if not expired:
        return 0
    session.execute(
        delete(IdempotencyKey)
        .where(
            IdempotencyKey.claimed_at <= cutoff,
            tuple_(IdempotencyKey.principal, IdempotencyKey.key).in_([(p, k) for p, k in expired]),
        )
        .execution_options(synchronize_session=False)
    )
    return len(expired)
