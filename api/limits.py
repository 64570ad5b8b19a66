"""Limits of the HTTP API, each stated once (docs/API.md §5).

The settings (``CARBONLEDGER_MAX_BODY_BYTES``), the runner and the app take their defaults
from :class:`ApiLimits`; page sizes and the lengths of ids and subjects are the ledger
service's (``ledger.service.limits``), shared with the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.service.limits import MAX_PAGE
from ledger.store.access import DEFAULT_IDEMPOTENCY_RETENTION_S

__all__ = ["ANONYMOUS_BUNDLE_LIMIT", "ApiLimits"]

#: Records per bundle for anonymous callers (docs/API.md §5); principals get up to the
#: bundle format's item limit.
ANONYMOUS_BUNDLE_LIMIT = MAX_PAGE


@dataclass(frozen=True)
class ApiLimits:
    """Limits of the HTTP API (docs/API.md §5)."""

    #: Largest request body, as received (413 above), single or bulk submissions alike.
    max_body_bytes: int = 16 * 1024 * 1024
    #: How long an unfinished Idempotency-Key claim blocks retries (then it is taken over).
    idempotency_stale_s: float = 60.0
    #: How long an Idempotency-Key is kept after its claim (docs/API.md §3.1): a retry
    #: within it replays the stored response, after it the key is a fresh request.
    idempotency_retention_s: float = DEFAULT_IDEMPOTENCY_RETENTION_S
    #: Expired Idempotency-Keys deleted per submission: more than one a request, so the
    #: table shrinks back to one retention window after a burst.
    idempotency_purge_batch: int = 20
    #: How long a readiness verdict is reused before the store and chain are asked again.
    readiness_cache_s: float = 5.0
    #: How long ``/readyz`` waits for the store and the chain; a check still running then
    #: (a hung node) is reported as not answering, and is not started again meanwhile.
    readiness_budget_s: float = 2.0
