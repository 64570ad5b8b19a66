"""Sizes the ledger hands out and takes in, each stated once: every listing (the JSON
API's and the pages') and every bound on an id, a producer or a subject reads it here.

Page sizes (docs/API.md §5, docs/PAGES.md §4): the API refuses a larger page with 422
rather than clamp it, so a client never mistakes a short page for the end; the pages
clamp and say so. A cursor is a store row id (a signed 64-bit integer).

Ids, producers, subjects, principal names and Idempotency-Keys are as wide as the
store's columns: longer values are
refused by name on the way in instead of failing (or being truncated) in the database.
"""

from __future__ import annotations

from ledger.store.types import (
    MAX_ID_CHARS,
    MAX_IDEMPOTENCY_KEY_CHARS,
    MAX_PRINCIPAL_CHARS,
    MAX_PRODUCER_CHARS,
    MAX_SUBJECT_CHARS,
)

__all__ = [
    "DEFAULT_PAGE",
    "MAX_CURSOR",
    "MAX_IDEMPOTENCY_KEY_CHARS",
    "MAX_ID_CHARS",
    "MAX_PAGE",
    "MAX_PRINCIPAL_CHARS",
    "MAX_PRODUCER_CHARS",
    "MAX_SUBJECT_CHARS",
]

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_CURSOR = 2**63 - 1
