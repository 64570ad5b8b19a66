"""What can go wrong when the chain is read through untrusted endpoints.

Two kinds, kept apart because they mean different things to an auditor:

- the endpoint gave no usable answer (refused, timed out, not JSON-RPC, undecodable
  data): ``EndpointUnavailableError``, an ``UnavailableError``, so nothing is decided
  (indeterminate);
- the endpoint answered, and the answer is provably not the chain's (a header that does
  not hash to its hash, a proof that does not fold, endpoints that disagree, code that is
  not the pinned code): a ``VerificationError`` carrying ``expected`` and ``computed``.
"""

from __future__ import annotations

from typing import Any

from ledger.core.errors import UnavailableError, VerificationError

__all__ = [
    "CodeHashError",
    "EndpointDisagreementError",
    "EndpointUnavailableError",
    "HeaderHashError",
    "ProofError",
]


class EndpointUnavailableError(UnavailableError):
    """An endpoint did not answer, or answered with something unusable (one sentence
    naming the endpoint: "connection refused at URL")."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, retry_after_s=5.0)
        self.url = url


class HeaderHashError(VerificationError):
    """A block header does not hash to the hash it is given as (by the endpoint itself,
    or by the bundle)."""


class ProofError(VerificationError):
    """An account or storage proof does not fold to the root it must lead to, or the
    value an endpoint states is not the value its proof shows."""


class CodeHashError(VerificationError):
    """The proven code hash of a registry is not the pinned one."""


class EndpointDisagreementError(VerificationError):
    """Endpoints gave different block hashes for one height. ``hashes`` maps each
    endpoint to the hash it gave."""

    def __init__(self, message: str, *, height: int, hashes: dict[str, str], **kw: Any) -> None:
        super().__init__(message, **kw)
        self.height = height
        self.hashes = hashes
