"""The one error tree of carbonledger.

Every public function raises one of these, never a bare KeyError, ValueError
or JSONDecodeError. Parse errors carry the JSON path of what is wrong.
Verification failures carry their evidence (expected vs. computed).
"""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Root of every error carbonledger raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedError(LedgerError):
    """Input that cannot be accepted as it is: bad JSON, bad field, bad format.

    ``path`` is the JSON path of the offending value (``bundle.items[3].proof[2]``),
    or an empty string when the whole input is at fault.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


class VerificationError(LedgerError):
    """A check failed. ``expected`` and ``computed`` are the evidence."""

    def __init__(self, message: str, *, expected: Any = None, computed: Any = None) -> None:
        super().__init__(message)
        self.expected = expected
        self.computed = computed


class DigestMismatchError(VerificationError):
    """A digest recomputed from the data differs from the one claimed."""


class InclusionProofError(VerificationError):
    """A Merkle proof does not lead from the leaf to the root."""


class SignatureError(VerificationError):
    """A signature does not verify under the stated key."""


class CalculationMismatchError(VerificationError):
    """A recomputed figure (calc/1) differs from the one the record states."""


class NotFoundError(LedgerError):
    """Something referred to does not exist."""


class ConflictError(LedgerError):
    """The request contradicts what is already stored (same id, other content)."""


class UnavailableError(LedgerError):
    """A dependency (chain, database, node) could not answer; retrying may help."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class StorageError(LedgerError):
    """The store failed in a way that is not simply 'unavailable'."""


class AnchoringError(LedgerError):
    """Compiling, deploying or anchoring on the chain failed."""


class DeploymentMismatchError(AnchoringError):
    """The chain or contracts differ from the recorded deployment."""

    def __init__(self, message: str, *, differences: list[str] | None = None) -> None:
        super().__init__(message)
        self.differences = differences or []
