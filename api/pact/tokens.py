"""Access tokens of the PACT API (docs/PACT.md §2): signed JWTs (RFC 7519, HS256), issued
by the OAuth2 client-credentials token endpoint to a principal, valid ``lifetime_s``.
A token names the API key it was exchanged for (claim ``kid``), so that each use can check
the key is still valid: a token never outlives its key.

The signing key is derived from the service key with HKDF-SHA256 (RFC 5869, info
``carbonledger.pact-token.v1``): nothing new to keep secret, and a token can never be
mistaken for anything else the service key signs. Expiry is judged against the injected
clock, not the wall clock, so tests move time instead of waiting.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.problems import InvalidTokenError, TokenExpiredError

__all__ = [
    "DEFAULT_LIFETIME_S",
    "SCOPES",
    "InvalidTokenError",
    "IssuedToken",
    "TokenExpiredError",
    "TokenIssuer",
    "TokenSubject",
    "token_key",
]

DEFAULT_LIFETIME_S = 3600
ISSUER = "carbonledger"
AUDIENCE = "pact"
ALGORITHM = "HS256"
#: The scopes of the PACT OpenAPI document's client-credentials flow, plus the events one.
SCOPES = ("footprint:list", "footprint:read", "events:write")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class TokenSubject:
    """Whom a valid token was issued to, and for which of its API keys."""

    principal: str
    key_id: str


def token_key(service_key: Ed25519PrivateKey) -> bytes:
    """The 32-byte HS256 key of the PACT tokens, derived from the service key."""
    raw = service_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"carbonledger.pact-token.v1"
    ).derive(raw)


class TokenIssuer:
    def __init__(
        self, key: bytes, *, clock: Callable[[], datetime], lifetime_s: int = DEFAULT_LIFETIME_S
    ) -> None:
        if len(key) < 32:
            raise ValueError("a token key has at least 32 bytes")
        self.key = key
        self.clock = clock
        self.lifetime_s = lifetime_s

    def issue(self, principal: str, key_id: str) -> IssuedToken:
        """A token for ``principal``, exchanged for its API key ``key_id``."""
        now = int(self.clock().timestamp())
        scope = " ".join(SCOPES)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal,
            "kid": key_id,
            "iat": now,
            "exp": now + self.lifetime_s,
            "jti": secrets.token_hex(16),
            "scope": scope,
        }
        token = jwt.encode(claims, self.key, algorithm=ALGORITHM)
        return IssuedToken(token, self.lifetime_s, scope)

    def verify(self, token: str) -> TokenSubject:
        """The principal a token was issued to and the key it was exchanged for; raises
        ``TokenExpiredError`` or ``InvalidTokenError``. Whether the key and the principal
        still stand is the caller's to check, at each use."""
        if not token or len(token) > 4096:
            raise InvalidTokenError("Invalid token provided")
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                # Expiry is checked below against the injected clock.
                options={
                    "verify_exp": False,
                    "require": ["exp", "iat", "sub", "iss", "aud", "kid"],
                },
            )
        except jwt.PyJWTError:
            raise InvalidTokenError("Invalid token provided") from None
        exp, sub, kid = claims.get("exp"), claims.get("sub"), claims.get("kid")
        if not isinstance(exp, int) or not isinstance(sub, str) or not sub:
            raise InvalidTokenError("Invalid token provided")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("Invalid token provided")
        if int(self.clock().timestamp()) >= exp:
            raise TokenExpiredError("The specified access token has expired")
        return TokenSubject(sub, kid)
