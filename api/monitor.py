"""A watch on the chain node, beside the anchorer (docs/OPERATIONS.md §2).

A node that accepts connections and never answers (a stopped process, a wedged client)
holds each of the anchorer's calls until its client gives up, and for that long nothing is
sealed or anchored and nothing says why. The monitor asks the node for its height every
``interval_s`` with a timeout of its own (``timeout_s``, one JSON-RPC request, no retries);
after ``failures_to_alert`` unanswered probes in a row it raises ``chain_unresponsive``,
and the first answer closes it. Each failed probe counts in
``carbonledger_chain_errors_total{source="monitor"}``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime

import httpx

from ledger.core.errors import LedgerError
from ledger.store import Store
from ledger.store.alerts import alert_once, resolve_alerts

__all__ = ["ALERT_KIND", "ChainMonitor"]

log = logging.getLogger("carbonledger.monitor")

ALERT_KIND = "chain_unresponsive"


class ChainMonitor:
    def __init__(
        self,
        *,
        rpc_url: str,
        store: Store,
        clock: Callable[[], datetime],
        on_error: Callable[[], None] = lambda: None,
        interval_s: float = 2.0,
        timeout_s: float = 2.0,
        failures_to_alert: int = 2,
    ) -> None:
        self.rpc_url = rpc_url
        self.store = store
        self.clock = clock
        self.on_error = on_error
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.failures_to_alert = failures_to_alert
        self.failures = 0
        self._alerted: bool | None = None  # unknown until the first probe: an earlier
        # process may have left the alert open

    def probe(self) -> str | None:
        """None when the node told its height in time, else what went wrong."""
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        try:
            response = httpx.post(self.rpc_url, json=body, timeout=self.timeout_s)
            answer = json.loads(response.content)
            int(answer["result"], 16)
        except httpx.TimeoutException:
            return f"no answer within {self.timeout_s:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        except (ValueError, KeyError, TypeError):
            return "an answer that is not a block number"
        return None

    def step(self) -> None:
        problem = self.probe()
        try:
            if problem is None:
                self.failures = 0
                if self._alerted is not False:
                    with self.store.transaction() as session:
                        resolve_alerts(session, ALERT_KIND, at=self.clock())
                    self._alerted = False
                return
            self.failures += 1
            self.on_error()
            log.warning("the chain at %s: %s (%d in a row)", self.rpc_url, problem, self.failures)
            if self.failures >= self.failures_to_alert and not self._alerted:
                with self.store.transaction() as session:
                    alert_once(
                        session,
                        kind=ALERT_KIND,
                        message=f"the chain node at {self.rpc_url} did not answer "
                        f"{self.failures} probes in a row ({problem}); anchoring waits, "
                        "records are still accepted",
                        at=self.clock(),
                    )
                self._alerted = True
        except LedgerError as exc:  # the store is the one in trouble: try again next time
            log.warning("the chain monitor could not record its finding: %s", exc.message)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step()
            stop.wait(self.interval_s)
