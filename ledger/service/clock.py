"""Time for the ledger service, injected (STYLE.md "Library code never reads ... Time is
injected"): a clock is any callable returning an aware UTC ``datetime``; the store's
``Clock`` has the same shape, so one clock can drive both.
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

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
