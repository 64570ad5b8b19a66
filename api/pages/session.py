"""Page session cookies and CSRF tokens (docs/PAGES.md §2).

A caller signs in once with an API key in the login form; the key is checked like a
Bearer key and never stored or echoed. The session itself lives on the server
(``ledger.store.sessions``, through ``api.security.AccessService``); the cookie carries
only its random token, MACed with HMAC-SHA256 under a server secret so that a forged
cookie is refused before any look-up. Every request looks the session up: signing out,
revoking the key or disabling the principal ends it, and a saved copy of the cookie then
signs in as nobody.

CSRF: the "signed double-submit cookie" of the OWASP CSRF Prevention Cheat Sheet. A
random nonce with its MAC is set as a cookie and repeated in a hidden field of every
form; a post is accepted only when both agree and the MAC holds. SameSite=Strict on both
cookies, and the Origin check in the routes, are the second and third line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ledger.core.errors import MalformedError

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "SessionSigner",
    "load_or_create_secret",
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


class SessionSigner:
    """Makes and checks the session and CSRF cookie values under one server secret."""

    def __init__(self, secret: bytes) -> None:
        # Separate MAC keys per purpose, so a CSRF token can never pass as a session.
        self._session_key = hmac.digest(secret, b"carbonledger.pages.session.v1", "sha256")
        self._csrf_key = hmac.digest(secret, b"carbonledger.pages.csrf.v1", "sha256")

    def _mac(self, key: bytes, payload: bytes) -> str:
        return _b64(hmac.digest(key, payload, "sha256"))

    def session_value(self, token: str) -> str:
        """The cookie value of the session whose token is ``token``."""
        return f"{token}.{self._mac(self._session_key, token.encode('ascii'))}"

    def read_session(self, value: str | None) -> str | None:
        """The session token in ``value`` if its MAC holds, else None (it is then looked
        up on the server, which decides whether the session still counts)."""
        if not value or len(value) > _MAX_COOKIE_CHARS or value.count(".") != 1:
            return None
        token, mac = value.split(".")
        if not token.isascii() or not token:
            return None
        if not hmac.compare_digest(mac, self._mac(self._session_key, token.encode("ascii"))):
            return None
        return token

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
