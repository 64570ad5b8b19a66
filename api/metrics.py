"""The service's Prometheus metrics, through ``prometheus_client`` (docs/API.md §6).

One registry per app (never the library's global one), so that two apps in one process
(tests, a second worker) count apart. Counted as things happen: requests by method, route
template and status, with latency histograms; records accepted (new ones only: a replay
of a receipt already given is not an acceptance) and rejected by reason; chain errors by
where they happened. Read from the store at each scrape: records by status, pending, the
anchoring lag, batches and anchor transactions by state (the outbox), open alerts by kind.
and the chain follower's lag behind the head it last saw.

With several API worker processes (``api.workers``) a scrape reaches one worker, yet must
count for all: each process then keeps its counters and histograms in files of one
directory, which the supervisor makes empty at start (``share_metrics``), and every
worker's ``/metrics`` sums the files of all processes, the dead ones included, so totals
never go back when a worker is replaced (prometheus_client's multiprocess mode). The
store's gauges are the store's, whichever worker reads them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ledger.store import Store
from ledger.store.stats import OperationsStats, operations_stats

__all__ = ["CONTENT_TYPE", "ServiceMetrics", "chain_errors_counter", "share_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Latency buckets (s): a bundle of 10,000 records takes seconds, a status read a millisecond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


ACCEPTED_HELP = "Records newly accepted (replays of a receipt are not counted)."
CHAIN_ERRORS_HELP = "Chain calls that failed or timed out, by caller (readiness, monitor)."


def share_metrics(directory: Path) -> None:
    """Keep this process's counters in ``directory``, shared with the service's other
    processes (call before any metric is made: at the start of a worker process, or in
    the supervisor). prometheus_client reads the directory from the environment variable
    it documents; setting it here, at the process's start, is the one place it is set."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def chain_errors_counter(registry: CollectorRegistry | None) -> Counter:
    """``carbonledger_chain_errors_total{source}``: in the app's registry, or (``None``)
    only in the shared directory, for the supervisor's chain monitor."""
    return Counter("carbonledger_chain_errors", CHAIN_ERRORS_HELP, ["source"], registry=registry)


class _StoreCollector(Collector):
    """Gauges read from the store at scrape time (one read transaction)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        accepted: Callable[[], int] | None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.accepted = accepted

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        if self.accepted is not None:
            accepted = CounterMetricFamily("carbonledger_records_accepted", ACCEPTED_HELP)
            accepted.add_metric([], self.accepted())
            yield accepted
        stats: OperationsStats = self.store.run(operations_stats, readonly=True)
        records = GaugeMetricFamily(
            "carbonledger_records", "Records in the store, by anchoring status.", labels=["status"]
        )
        for status, n in stats.records_by_status.items():
            records.add_metric([status], n)
        yield records
        yield GaugeMetricFamily(
            "carbonledger_records_pending",
            "Records accepted and not yet in a batch.",
            value=stats.records_by_status.get("pending", 0),
        )
        oldest = stats.oldest_unanchored_at
        lag = 0.0 if oldest is None else max(0.0, (self.clock() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "carbonledger_anchoring_lag_seconds",
            "Age of the oldest record not yet anchored (0 when every record is).",
            value=lag,
        )
        batches = GaugeMetricFamily("carbonledger_batches", "Batches by state.", labels=["state"])
        for state, n in stats.batches_by_state.items():
            batches.add_metric([state], n)
        yield batches
        txs = GaugeMetricFamily(
            "carbonledger_anchor_txs",
            "Anchor transactions of the outbox by state.",
            labels=["state"],
        )
        for state, n in stats.anchor_txs_by_state.items():
            txs.add_metric([state], n)
        yield txs
        alerts = GaugeMetricFamily(
            "carbonledger_alerts_open", "Open alerts by kind.", labels=["kind"]
        )
        for kind, n in sorted(stats.open_alerts_by_kind.items()):
            alerts.add_metric([kind], n)
        yield alerts
        if stats.follower_lag_blocks is not None:
            yield GaugeMetricFamily(
                "carbonledger_follower_lag_blocks",
                "Blocks between the chain head the follower last saw and the last block it "
                "mirrored into the store (absent until the follower has run).",
                value=stats.follower_lag_blocks,
            )


class ServiceMetrics:
    """The metrics of one app; ``render()`` is the body of ``GET /metrics``."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Callable[[], datetime],
        accepted: Callable[[], int],
        shared: Path | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.shared = shared
        self.requests = Counter(
            "carbonledger_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "carbonledger_http_request_duration_seconds",
            "Time from the request's arrival to the end of its response.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejected = Counter(
            "carbonledger_records_rejected",
            "Submissions refused, by reason (the problem slug: malformed, forbidden, ...).",
            ["reason"],
            registry=self.registry,
        )
        self.chain_errors = chain_errors_counter(self.registry)
        self._accepted = accepted
        if shared is None:
            self.registry.register(_StoreCollector(store, clock, accepted))
            return
        # Shared: the acceptance count becomes a counter of this process, brought up to
        # date after each request, and a scrape reads every process's files.
        self._accepted_counter = Counter(
            "carbonledger_records_accepted", ACCEPTED_HELP, registry=self.registry
        )
        self._accepted_seen = 0
        self._accepted_lock = threading.Lock()
        self._scrape = CollectorRegistry()
        MultiProcessCollector(self._scrape, path=str(shared))  # type: ignore[no-untyped-call]
        self._scrape.register(_StoreCollector(store, clock, None))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if self.shared is not None:
            with self._accepted_lock:
                now = self._accepted()
                if now > self._accepted_seen:
                    self._accepted_counter.inc(now - self._accepted_seen)
                    self._accepted_seen = now

    def render(self) -> bytes:
        return generate_latest(self._scrape if self.shared is not None else self.registry)
