"""Types shared by the chain backends and their callers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ledger.core.errors import AnchoringError

ABI = Sequence[Mapping[str, Any]]


class ChainSetupError(AnchoringError):
    """The chain cannot be started or reached because of the local setup (a missing
    binary, a port in use, a missing or unreadable signer key); the message names the fix."""


class ChainIdMismatchError(AnchoringError):
    """The node serves another chain than the one configured."""

    def __init__(self, message: str, *, expected: int, actual: int) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class SignedTx:
    """A transaction signed locally: ``raw`` is what gets (re-)broadcast, unchanged."""

    raw: bytes
    tx_hash_hex: str
    sender: str
    nonce: int
    fields: dict[str, Any]
    what: str


class ArtifactLike(Protocol):
    """What the chain layer needs of a compiled contract (anchoring.toolchain.ContractArtifact)."""

    @property
    def name(self) -> str: ...
    @property
    def abi(self) -> list[dict[str, Any]]: ...
    @property
    def bytecode(self) -> bytes: ...
    @property
    def runtime_code_hash_hex(self) -> str: ...
