"""The submission wire format a producer sends (docs/SUBMISSION.md §2, §3): one signed
full view, or a bulk of them, in canonical bytes.

The producer's client builds submissions with :func:`submission_bytes`; the ledger
service reads them (``ledger.service.submission``) under the same format names.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.canonical import canonicalize, parse_json
from ledger.core.signature import sign_digest
from ledger.core.view import Commitment

__all__ = ["BATCH_FORMAT", "SUBMISSION_FORMAT", "batch_bytes", "submission_bytes"]

SUBMISSION_FORMAT = "carbonledger-submission/1"
BATCH_FORMAT = "carbonledger-submission-batch/1"


def submission_bytes(commitment: Commitment, producer_key: Ed25519PrivateKey) -> bytes:
    """A signed submission of a committed record (docs/SUBMISSION.md §2), canonical bytes."""
    signature = sign_digest(producer_key, commitment.digest)
    return canonicalize(
        {
            "format": SUBMISSION_FORMAT,
            "view": commitment.to_json(),
            "signature": signature.to_json(),
        }
    )


def batch_bytes(submissions: Sequence[bytes]) -> bytes:
    """A bulk of submissions, in the order given (docs/SUBMISSION.md §3), canonical bytes."""
    return canonicalize(
        {"format": BATCH_FORMAT, "submissions": [parse_json(s) for s in submissions]}
    )
