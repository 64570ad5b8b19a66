"""The anchorer in a thread of the service, and the switch to another signing key without
stopping the service (docs/OPERATIONS.md §10).

A switch waits for a moment with no batch in flight: a transaction the old key signed is
followed (and, if stuck, replaced with the same nonce) by an anchorer holding the old key.
So the running anchorer is stopped after its step; if a batch is in flight then, it is
started again with the old key and the switch is tried again a little later; otherwise
the new anchorer starts with the new key. The API serves throughout, records are
accepted and sealed throughout; anchoring pauses for at most one poll at each attempt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from anchoring.anchorer import Anchorer
from ledger.core.errors import LedgerError
from ledger.store import Store
from ledger.store import batches as batch_repo

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

__all__ = ["AnchorerThread"]

log = logging.getLogger("carbonledger.runner")

STOP_TIMEOUT_S = 30.0


class AnchorerThread:
    def __init__(
        self,
        *,
        make: Callable[[LocalAccount | None], Anchorer],
        store: Store,
        on_failure: Callable[[str], None],
    ) -> None:
        self._make = make
        self._store = store
        self._on_failure = on_failure
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._anchorer: Anchorer | None = None
        self.signer: LocalAccount | None = None

    @property
    def address(self) -> str | None:
        return None if self._anchorer is None else str(self._anchorer.signer.address)

    def start(self, signer: LocalAccount | None) -> None:
        anchorer = self._make(signer)
        anchorer.check_chain()  # refuse to start on a reset chain, before serving anything
        stop = threading.Event()

        def loop() -> None:
            try:
                anchorer.run_forever(stop)
            except LedgerError as exc:
                self._on_failure(f"the anchorer stopped: {exc.message}")
            except Exception as exc:
                self._on_failure(f"the anchorer stopped: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=loop, name="anchorer", daemon=True)
        self._anchorer, self._stop, self._thread, self.signer = anchorer, stop, thread, signer
        thread.start()

    def stop(self) -> None:
        """Stop after the current step and release the anchorer's lock."""
        if self._thread is None or self._anchorer is None:
            return
        self._stop.set()
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("the anchorer did not finish its step within %s s", STOP_TIMEOUT_S)
        else:
            self._anchorer.close()
        self._thread = None

    def _in_flight(self) -> list[int]:
        with self._store.transaction(readonly=True) as session:
            return [b.seq for b in batch_repo.batches_in_state(session, "anchoring")]

    def switch(
        self, signer: LocalAccount, *, attempts: int, wait: Callable[[float], bool], pause_s: float
    ) -> bool:
        """Sign with ``signer`` from now on; False if a batch was in flight at every one of
        ``attempts`` tries (the old key then keeps anchoring). ``wait(s)`` pauses between
        tries and returns True when the service is stopping meanwhile."""
        previous = self.signer
        for attempt in range(1, attempts + 1):
            self.stop()
            in_flight = self._in_flight()
            if not in_flight:
                self.start(signer)
                log.warning("the anchorer signs with %s from now on", signer.address)
                return True
            log.info(
                "batches %s are in flight under the old key: switching later (try %d of %d)",
                in_flight,
                attempt,
                attempts,
            )
            self.start(previous)
            if wait(pause_s):
                return False
        return False
