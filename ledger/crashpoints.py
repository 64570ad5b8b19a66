"""Named crash points, for the crash tests of the accept path and the anchorer.

Production code calls ``crash_points.hit("anchor.after_sign")`` at each point where a crash
leaves a distinct durable state. Normally nothing is armed and ``hit`` does nothing. The
crash tests start a real process with one point armed (the entry point reads it from its
settings and passes a ``CrashPoints`` down); when that point is reached for the n-th time
the process kills itself with SIGKILL: no cleanup, no flush, no atexit, exactly as a power
cut or an OOM kill would leave it.
"""

from __future__ import annotations

import os
import signal


class CrashPoints:
    """At most one armed point; ``hit`` kills the process on its ``after``-th passage."""

    def __init__(self, armed: str | None = None, *, after: int = 1) -> None:
        self._armed = armed or None
        self._remaining = max(1, after)
        # The distinct points passed so far (bounded by the number of points in the code),
        # so a test can enumerate them from a run with nothing armed.
        self.seen: set[str] = set()

    @property
    def armed(self) -> str | None:
        return self._armed

    def hit(self, name: str) -> None:
        self.seen.add(name)
        if name != self._armed:
            return
        self._remaining -= 1
        if self._remaining == 0:
            os.kill(os.getpid(), signal.SIGKILL)


NO_CRASH = CrashPoints()
