"""Failed-login throttling for the login form (docs/PAGES.md §2.1).

Guessing API keys through ``POST /login`` is hopeless (the secret carries 256 bits), but
each attempt costs a store look-up and the form is the one place an anonymous client can
make the server check a key at will: OWASP API4 (unrestricted resource consumption) and
the Authentication Cheat Sheet's "login throttling" apply (docs/PAGES.md §2.1).

Failures are counted in a sliding window per client address and per key id tried. Once
either count reaches its limit, further attempts are refused with 429 and
``Retry-After`` (RFC 6585 §4, RFC 9110 §10.2.3) before any key is checked, until the
oldest failure in the window ages out. A success resets nothing: failures only age out,
so a caller holding one valid key cannot interleave it to keep guessing others.

State is in memory and bounded: at most ``max_tracked`` addresses and as many key ids,
each an LRU that forgets the least recently seen entry first, so a flood of addresses
cannot grow memory. Time comes from the injected clock, never ``time.time()``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime

from ledger.core.errors import LedgerError, MalformedError

__all__ = ["LoginThrottle", "ThrottleConfig", "TooManyAttemptsError"]


class TooManyAttemptsError(LedgerError):
    """Too many failed logins from one address or for one key id (429 + Retry-After)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class ThrottleConfig:
    #: Failed logins allowed per client address within ``window_s``.
    max_failures_per_address: int = 5
    #: Failed logins allowed per key id within ``window_s``, from any address: a key
    #: guessed from many addresses is slowed too.
    max_failures_per_key: int = 10
    window_s: int = 300
    #: Entries kept per table (addresses, key ids); the least recently seen goes first.
    max_tracked: int = 10_000


class _Window:
    """Failure times of one key in a bounded LRU: a sliding-window log per key."""

    def __init__(self, *, limit: int, window_s: int, max_tracked: int) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_tracked = max_tracked
        self._log: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now_s: float) -> deque[float] | None:
        times = self._log.get(key)
        if times is None:
            return None
        while times and times[0] <= now_s - self.window_s:
            times.popleft()
        if not times:
            del self._log[key]
            return None
        return times

    def retry_after_s(self, key: str, now_s: float) -> int | None:
        times = self._recent(key, now_s)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window_s - now_s))

    def add(self, key: str, now_s: float) -> None:
        times = self._recent(key, now_s)
        if times is None:
            # Only the last ``limit`` failures decide anything: the deque stays that short.
            times = self._log[key] = deque(maxlen=self.limit)
        self._log.move_to_end(key)
        times.append(now_s)
        while len(self._log) > self.max_tracked:
            self._log.popitem(last=False)

    def __len__(self) -> int:
        return len(self._log)


class LoginThrottle:
    """Counts failed logins; ``check`` raises ``TooManyAttemptsError`` while blocked."""

    def __init__(self, config: ThrottleConfig | None = None) -> None:
        self.config = c = config or ThrottleConfig()
        if min(c.max_failures_per_address, c.max_failures_per_key, c.window_s) < 1:
            raise MalformedError("limits and window must be at least 1", path="throttle")
        self._addresses = _Window(
            limit=c.max_failures_per_address, window_s=c.window_s, max_tracked=c.max_tracked
        )
        self._keys = _Window(
            limit=c.max_failures_per_key, window_s=c.window_s, max_tracked=c.max_tracked
        )
        self._lock = threading.Lock()

    def check(self, *, address: str, key_id: str | None, now: datetime) -> None:
        now_s = now.timestamp()
        with self._lock:
            waits = [self._addresses.retry_after_s(address, now_s)]
            if key_id is not None:
                waits.append(self._keys.retry_after_s(key_id, now_s))
        found = [w for w in waits if w is not None]
        if found:
            wait = max(found)
            raise TooManyAttemptsError(
                f"too many failed sign-ins: try again in {wait} s", retry_after_s=wait
            )

    def failed(self, *, address: str, key_id: str | None, now: datetime) -> None:
        now_s = now.timestamp()
        with self._lock:
            self._addresses.add(address, now_s)
            if key_id is not None:
                self._keys.add(key_id, now_s)

    def tracked(self) -> tuple[int, int]:
        """How many addresses and key ids are remembered (the memory bound, for tests)."""
        with self._lock:
            return len(self._addresses), len(self._keys)
