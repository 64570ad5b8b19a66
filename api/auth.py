"""Callers, roles and what each may do (OWASP API Security 2023: API1, API2, API5).

A request carries ``Authorization: Bearer <api key>`` (keys are made with ``carbonledger
principals``, stored hashed: ``ledger.store.access``) or nothing. No header makes the
caller anonymous; a header with an unknown, revoked or malformed key is refused (401)
rather than downgraded to anonymous, so a broken client notices.

Roles (docs/API.md §2):

- ``producer``: submits records of its own producer id and allowed types; reads its own
  records only (others are "not found", never "forbidden").
- ``auditor``: reads the subjects it is granted in full, the rest in the public view;
  files attestations.
- ``regulator``: reads every record in full, browses the trail, requests revocations.
- ``admin``: principals and keys; reads like the public.
- anonymous: the public, desensitized views only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import AuthenticationError, ForbiddenError
from ledger.service.query import PUBLIC, REGULATOR, Access
from ledger.store.access import Principal

__all__ = [
    "ANONYMOUS",
    "Caller",
    "access_for",
    "current_caller",
    "require_role",
]

_bearer = HTTPBearer(auto_error=False, description="an API key made by `carbonledger principals`")


@dataclass(frozen=True)
class Caller:
    name: str | None
    role: str  # "anonymous" or one of ledger.store.access.ROLES
    producer: str | None = None
    record_types: frozenset[str] = field(default_factory=frozenset)
    grants: frozenset[str] = field(default_factory=frozenset)
    #: The id of the API key the caller authenticated with (audit events name it).
    key_id: str | None = None

    @classmethod
    def of(cls, principal: Principal, *, key_id: str | None = None) -> Caller:
        return cls(
            name=principal.name,
            role=principal.role,
            producer=principal.producer,
            record_types=frozenset(principal.record_types or ()),
            grants=frozenset(principal.grants or ()),
            key_id=key_id,
        )

    @property
    def is_anonymous(self) -> bool:
        return self.name is None


ANONYMOUS = Caller(name=None, role="anonymous")


def access_for(caller: Caller) -> Access:
    """The read access of a caller (enforced by ``ledger.service.query``)."""
    if caller.role == "regulator":
        return REGULATOR
    if caller.role == "producer" and caller.producer is not None:
        return Access(owner=caller.producer)
    if caller.role == "auditor":
        return Access(full_subjects=caller.grants)
    return PUBLIC


def require_role(caller: Caller, *roles: str) -> str:
    """Function-level authorization: 401 for anonymous callers, 403 for other roles; the
    name of the principal allowed."""
    if caller.name is None:
        raise AuthenticationError(f"this operation needs an API key of role {' or '.join(roles)}")
    if caller.role not in roles:
        raise ForbiddenError(f"role {caller.role} may not call this operation")
    return caller.name


async def current_caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
) -> Caller:
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("expected 'Authorization: Bearer <API key>'")
    principal: Caller | None = request.app.state.api.authenticate(credentials.credentials)
    if principal is None:
        raise AuthenticationError("unknown or revoked API key")
    return principal
