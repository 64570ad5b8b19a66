"""Time, injected: a clock is any callable returning an aware UTC ``datetime``.

The service, the store, the anchorer, the pages and the verifier all take one, so a
test or a replay sets the time of everything at once. Only entry points (the
``carbonledger`` runner, the ``carbon-verify`` CLI) pass :func:`system_clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ledger.core.errors import MalformedError

__all__ = ["Clock", "ManualClock", "system_clock"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, aware UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, benchmarks, replays)."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise MalformedError("ManualClock needs a timezone-aware datetime")
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: int) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += timedelta(seconds=seconds)
