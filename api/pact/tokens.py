"""Access tokens of the PACT API (docs/PACT.md §2): signed JWTs (RFC 7519, HS256), issued
by the OAuth2 client-credentials token endpoint to a principal, valid ``lifetime_s``.

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

    def issue(self, principal: str) -> IssuedToken:
        now = int(self.clock().timestamp())
        scope = " ".join(SCOPES)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal,
            "iat": now,
            "exp": now + self.lifetime_s,
            "jti": secrets.token_hex(16),
            "scope": scope,
        }
        token = jwt.encode(claims, self.key, algorithm=ALGORITHM)
        return IssuedToken(token, self.lifetime_s, scope)

    def verify(self, token: str) -> str:
        """The principal a token was issued to; raises ``TokenExpiredError`` or
        ``InvalidTokenError``."""
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
                options={"verify_exp": False, "require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError:
            raise InvalidTokenError("Invalid token provided") from None
        exp, sub = claims.get("exp"), claims.get("sub")
        if not isinstance(exp, int) or not isinstance(sub, str) or not sub:
            raise InvalidTokenError("Invalid token provided")
        if int(self.clock().timestamp()) >= exp:
            raise TokenExpiredError("The specified access token has expired")
        return sub
