"""The producer's client of the carbonledger API (docs/API.md §7), a package of its own:
it needs only the pure core (``ledger.core``) and httpx, never the store or the service.

::

    client = LedgerClient("https://ledger.example", api_key, producer_key=key,
                          service_key_id="<64 hex, from the operator>")
    receipt = client.submit(record)          # commit, sign, POST, verify the receipt
    bundle = client.get_bundle(record["id"])  # once anchored (after receipt.anchor_by)

``submit`` commits the record with fresh salts (docs/FORMAT.md §2.2), signs the digest
with the producer key (§3) and POSTs the submission (docs/SUBMISSION.md) with an
``Idempotency-Key`` derived from the record id and digest. On a 502/503/504, a timeout or
a connection error it retries with exponential backoff (honouring ``Retry-After``),
re-sending the very same bytes under the same key, so a retry can never create a second
record or a second receipt. The receipt is then checked: signed by the service key the
client was configured with (or, without one, the key ``/v1/service`` names, fetched
once), for this record id and this digest: a client verifies what it gets against its
own hash.
"""

from ledger.client.problems import ApiAccessError
from ledger.client.producer import LedgerClient, idempotency_key
from ledger.core.submission import submission_bytes

__all__ = ["ApiAccessError", "LedgerClient", "idempotency_key", "submission_bytes"]
