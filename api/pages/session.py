"""Page sessions and CSRF tokens (docs/PAGES.md §2).

A caller signs in once with an API key in the login form; the key is checked like a
Bearer key and never stored or echoed. The session cookie then carries only the
principal's name, the key's *id* (the look-up handle, not the secret), an expiry and a
nonce, MACed with HMAC-SHA256 under a server secret. Every request re-reads the key and
the principal, so revoking the key or disabling the principal ends its page sessions too.

CSRF: the "signed double-submit cookie" of the OWASP CSRF Prevention Cheat Sheet. A
random nonce with its MAC is set as a cookie and repeated in a hidden field of every
form; a post is accepted only when both agree and the MAC holds. SameSite=Strict on both
cookies, and the Origin check in the routes, are the second and third line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from api.auth import Caller
from ledger.core.errors import MalformedError
from ledger.store import Store
from ledger.store.access import KEY_PREFIX, ApiKey, Principal

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "PageSession",
    "SessionSigner",
    "key_id_of",
    "load_or_create_secret",
    "session_caller",
]

SESSION_COOKIE = "cl_session"
CSRF_COOKIE = "cl_csrf"
SECRET_FILE = "pages-secret"
SECRET_BYTES = 32
_MAX_COOKIE_CHARS = 1024


def load_or_create_secret(data_dir: Path) -> bytes:
    """The pages' MAC key from ``<data_dir>/pages-secret`` (hex), made on first use (0600).

    Kept apart from the service's receipt key: rotating one must not touch the other.
    Deleting the file and restarting ends every page session.
    """
    path = Path(data_dir) / SECRET_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = secrets.token_bytes(SECRET_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return load_or_create_secret(data_dir)  # another worker made it first
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(fresh.hex() + "\n")
        return fresh
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise MalformedError(f"{SECRET_FILE}: expected hex", path=str(path)) from None
    if len(secret) < 16:
        raise MalformedError(f"{SECRET_FILE}: expected at least 16 bytes", path=str(path))
    return secret


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class PageSession:
    principal: str
    key_id: str
    expires_at: int  # POSIX seconds


class SessionSigner:
    """Makes and checks the session and CSRF cookie values under one server secret."""

    def __init__(self, secret: bytes) -> None:
        # Separate MAC keys per purpose, so a CSRF token can never pass as a session.
        self._session_key = hmac.digest(secret, b"carbonledger.pages.session.v1", "sha256")
        self._csrf_key = hmac.digest(secret, b"carbonledger.pages.csrf.v1", "sha256")

    def _mac(self, key: bytes, payload: bytes) -> str:
        return _b64(hmac.digest(key, payload, "sha256"))

    def session_value(self, session: PageSession) -> str:
        payload = json.dumps(
            {
                "v": 1,
                "p": session.principal,
                "k": session.key_id,
                "exp": session.expires_at,
                "n": secrets.token_hex(8),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("utf-8")
        return f"{_b64(payload)}.{self._mac(self._session_key, payload)}"

    def read_session(self, value: str | None, *, now: datetime) -> PageSession | None:
        """The session in ``value`` if its MAC holds and it has not expired, else None."""
        if not value or len(value) > _MAX_COOKIE_CHARS or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        payload = _unb64(body)
        if payload is None or not hmac.compare_digest(mac, self._mac(self._session_key, payload)):
            return None
        try:
            obj = json.loads(payload)
            session = PageSession(str(obj["p"]), str(obj["k"]), int(obj["exp"]))
        except (ValueError, KeyError, TypeError):
            return None
        if obj.get("v") != 1 or session.expires_at <= now.timestamp():
            return None
        return session

    def csrf_value(self) -> str:
        nonce = secrets.token_bytes(16)
        return f"{_b64(nonce)}.{self._mac(self._csrf_key, nonce)}"

    def is_csrf_valid(self, value: str | None) -> bool:
        if not value or len(value) > 100 or value.count(".") != 1:
            return False
        body, mac = value.split(".")
        nonce = _unb64(body)
        return nonce is not None and hmac.compare_digest(mac, self._mac(self._csrf_key, nonce))

    def csrf_matches(self, cookie: str | None, field: str | None) -> bool:
        """The form's token equals the cookie's, and the cookie's MAC holds."""
        if not cookie or not field or not self.is_csrf_valid(cookie):
            return False
        return hmac.compare_digest(
            hashlib.sha256(cookie.encode()).digest(), hashlib.sha256(field.encode()).digest()
        )


def key_id_of(token: str) -> str | None:
    """The key id of an API key ``clk_<key_id>_<secret>`` (ledger.store.access)."""
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, sep, _secret = token[len(KEY_PREFIX) :].partition("_")
    return key_id if sep and len(key_id) == 16 else None


def session_caller(store: Store, session: PageSession) -> Caller | None:
    """The caller of a page session, if its key is still live and its principal enabled."""

    def work(s: Session) -> Caller | None:
        key = s.get(ApiKey, session.key_id)
        if key is None or key.revoked_at is not None or key.principal != session.principal:
            return None
        principal = s.get(Principal, session.principal)
        if principal is None or principal.disabled_at is not None:
            return None
        return Caller.of(principal)

    return store.run(work, readonly=True)
