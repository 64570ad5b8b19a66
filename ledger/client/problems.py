"""What the API's problem details (RFC 9457, docs/API.md §4) mean to the client: each
status becomes one of the ledger's errors, a 503's ``Retry-After`` a bounded wait."""

from __future__ import annotations

import httpx

from ledger.core.canonical import parse_json
from ledger.core.errors import (
    ConflictError,
    LedgerError,
    MalformedError,
    NotFoundError,
    UnavailableError,
)

__all__ = ["MAX_RETRY_AFTER_S", "RETRY_STATUSES", "ApiAccessError", "problem_error"]

#: Answers worth the same request again, after a wait.
RETRY_STATUSES = frozenset({502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


class ApiAccessError(LedgerError):
    """The API refused the caller (401, 403) or answered something unexpected."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def problem_error(response: httpx.Response) -> LedgerError:
    """The error an answer of 400 or above stands for, with the problem's ``detail``."""
    try:
        problem = parse_json(response.content, root="problem")
    except LedgerError:
        problem = {}
    detail = str(problem.get("detail") or problem.get("title") or response.reason_phrase)
    status = response.status_code
    if status == 422:
        # The detail already starts with the path: keep it once.
        path = str(problem.get("path") or "")
        return MalformedError(detail.removeprefix(f"{path}: ") if path else detail, path=path)
    if status == 404:
        return NotFoundError(detail)
    if status == 409:
        return ConflictError(detail)
    if status in RETRY_STATUSES:
        return UnavailableError(f"HTTP {status}: {detail}", retry_after_s=_retry_after(response))
    return ApiAccessError(f"HTTP {status}: {detail}", status=status)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(value)))
    except ValueError:
        return None
