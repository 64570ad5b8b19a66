"""Python's cyclic garbage collector, paused while acceptances (and verifications) run.

A bulk of a thousand 20 KB submissions is a few million small acyclic objects (the parsed
body, views, validated records) alive at once; the collector runs full passes over all of
them as they accumulate, and those passes cost about as much as the whole CPU work of
acceptance (parse, digest, signature, recomputation; scripts/benchmarks/accept.py). Nothing
of acceptance relies on the collector: its objects are freed by reference counting when the
call returns; what it leaves in cycles (a refusal's traceback) is collected when the
collector resumes. The verifier pauses it the same way for one verification (a
10,000-record bundle is millions of such objects).

Acceptances run in several threads at once (the API's worker threads), so the pause is
counted: the first to start pauses the collector, the last to end resumes it, as it found
it (a process that runs with the collector off keeps it off). So that overlapping
acceptances cannot hold it off for ever, every ``COLLECT_EVERY`` acceptances that end while
others still run, the one ending collects the young generations itself: what died young
in cycles goes, and what lives on moves to the oldest generation, which is not walked again
before the collector resumes (a full pass over a server's whole heap every few requests
would cost more than the pause saves).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["COLLECT_EVERY", "collector_paused"]

#: Acceptances ending under a pause that never lifts, between two collections.
COLLECT_EVERY = 64


class _Pause:
    """The count of running acceptances: the collector is one per process, so is this."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.resume = False
        self.ended = 0  # acceptances ended since the collector last ran


_PAUSE = _Pause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector paused while the block runs (and any other such block)."""
    with _PAUSE.lock:
        if _PAUSE.running == 0:
            _PAUSE.resume = gc.isenabled()
            _PAUSE.ended = 0
            gc.disable()
        _PAUSE.running += 1
    try:
        yield
    finally:
        collect = False
        with _PAUSE.lock:
            _PAUSE.running -= 1
            if _PAUSE.running == 0:
                if _PAUSE.resume:
                    gc.enable()
            else:
                _PAUSE.ended += 1
                if _PAUSE.resume and _PAUSE.ended >= COLLECT_EVERY:
                    _PAUSE.ended = 0
                    collect = True
        if collect:
            gc.collect(1)
