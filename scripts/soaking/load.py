"""The soak's clients: writers (single submissions and bulks) and readers (a record, its
status, a trail, a record's bundle, a query bundle), each paced to its share of the rate.

A client behaves as a careful producer does: a request that gets no answer (the service
was killed), a 502/503/504 or a 409 "still being processed" is sent again, the same bytes
under the same Idempotency-Key, with a growing pause, until it is answered or
``op_deadline_s`` passes. An operation is acknowledged only by its 201; one that ends
otherwise is an error. Every attempt's latency is kept (answered attempts only), and every
operation's, retries included.
"""

from __future__ import annotations

import copy
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.core.canonical import canonicalize
from ledger.core.signature import sign_digest
from ledger.core.view import commit
from ledger.examples import example_records

__all__ = ["TEMPLATE_ID", "Load", "Stats"]

TEMPLATE_ID = "urn:carbonledger:rating-rule:low-carbon-credit-v1"
RETRYABLE = {409, 502, 503, 504}
BULK_SHARE = 0.2
BULK_SIZE = 5
#: The read mix: mostly records and statuses, a trail page now and then, and bundles (the
#: expensive read: every item checked against its batch root) one read in five.
READ_KINDS = ("record", "status", "trail", "bundle", "query")
READ_WEIGHTS = (30, 30, 20, 10, 10)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    attempts: list[float] = field(default_factory=list)  # answered attempts' latency (s)
    ops: list[float] = field(default_factory=list)  # operations' latency, retries included
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> receipt

    def note(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n


class Load:
    def __init__(
        self,
        *,
        api_url: str,
        token: str,
        producer_key: Ed25519PrivateKey,
        writes_per_s: float,
        reads_per_s: float,
        subject: str,
        op_deadline_s: float = 90.0,
        concurrency_s: float = 0.25,
    ) -> None:
        self.api_url = api_url
        self.token = token
        self.key = producer_key
        self.writes_per_s = writes_per_s
        self.reads_per_s = reads_per_s
        self.subject = subject
        self.op_deadline_s = op_deadline_s
        #: Seconds of latency the clients are sized for: rate x this many requests may be
        #: in flight at once (a client waits for its answer before it sends again).
        self.concurrency_s = concurrency_s
        self.stats = Stats()
        self.stop = threading.Event()
        self._template = example_records()[TEMPLATE_ID]
        self._counter = 0
        self._counter_lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    # -- records -------------------------------------------------------------------

    def _next_id(self) -> str:
        with self._counter_lock:
            self._counter += 1
            return f"{TEMPLATE_ID}-soak-{self._counter:08d}"

    def submission(self, record_id: str) -> dict[str, Any]:
        record = copy.deepcopy(self._template)
        record["id"] = record_id
        commitment = commit(record)
        signature = sign_digest(self.key, commitment.digest)
        return {
            "format": "carbonledger-submission/1",
            "view": commitment.to_json(),
            "signature": signature.to_json(),
        }

    # -- one operation, with the client's retries -----------------------------------

    def _call(
        self, http: httpx.Client, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.monotonic()
        pause = 0.2
        while True:
            attempt = time.monotonic()
            try:
                response = http.request(method, path, **kwargs)
            except httpx.HTTPError:
                response = None
                self.stats.note("attempts_unanswered")
            else:
                with self.stats.lock:
                    self.stats.attempts.append(time.monotonic() - attempt)
                if response.status_code not in RETRYABLE:
                    with self.stats.lock:
                        self.stats.ops.append(time.monotonic() - started)
                    return response
                self.stats.note(f"attempts_{response.status_code}")
            # An operation under way when the run ends is finished, not dropped: only the
            # deadline ends its retries.
            if time.monotonic() - started > self.op_deadline_s:
                return None
            time.sleep(pause)
            pause = min(pause * 2, 3.0)

    def _error(self, what: str) -> None:
        with self.stats.lock:
            self.stats.counts["errors"] += 1
            if len(self.stats.errors) < 50:
                self.stats.errors.append(what)

    def write_one(self, http: httpx.Client) -> None:
        bulk = random.random() < BULK_SHARE
        ids = [self._next_id() for _ in range(BULK_SIZE if bulk else 1)]
        subs = [self.submission(rid) for rid in ids]
        if bulk:
            body = canonicalize({"format": "carbonledger-submission-batch/1", "submissions": subs})
            path = "/v1/records/bulk"
        else:
            body, path = canonicalize(subs[0]), "/v1/records"
        headers = {"Idempotency-Key": ids[0] + ("-bulk" if bulk else "")}
        response = self._call(http, "POST", path, content=body, headers=headers)
        self.stats.note("writes", len(ids))
        if response is None or response.status_code != 201:
            code = None if response is None else response.status_code
            self._error(f"POST {path} {ids[0]}: {code} {response.text[:200] if response else ''}")
            return
        answer = response.json()
        receipts = answer["receipts"] if bulk else [answer]
        with self.stats.lock:
            for receipt in receipts:
                self.stats.acknowledged[receipt["record_id"]] = receipt

    def read_one(self, http: httpx.Client) -> None:
        with self.stats.lock:
            known = list(self.stats.acknowledged) if self.stats.acknowledged else []
        kind = random.choices(READ_KINDS, weights=READ_WEIGHTS)[0]
        self.stats.note("reads")
        if not known or kind == "trail":
            trail = {"subject": self.subject, "limit": 20}
            response = self._call(http, "GET", "/v1/trail", params=trail)
            ok = response is not None and response.status_code == 200
        elif kind in ("record", "status"):
            path = "/v1/record" if kind == "record" else "/v1/record/status"
            response = self._call(http, "GET", path, params={"id": random.choice(known)})
            ok = response is not None and response.status_code == 200
        elif kind == "bundle":
            older = known[: max(1, len(known) - 500)]  # likely anchored already
            response = self._call(
                http, "GET", "/v1/record/bundle", params={"id": random.choice(older)}
            )
            ok = response is not None and response.status_code in (200, 409)
        else:
            query = {"subject": self.subject, "limit": 10}
            response = self._call(http, "GET", "/v1/bundles", params=query)
            ok = response is not None and response.status_code in (200, 409)
        if not ok:
            code = None if response is None else response.status_code
            self._error(f"GET {kind}: {code}")

    # -- pacing --------------------------------------------------------------------

    def _worker(self, rate: float, action: Any) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=self.api_url, headers=headers, timeout=30) as http:
            interval = 1.0 / rate if rate > 0 else 1.0
            due = time.monotonic() + random.random() * interval
            while not self.stop.is_set():
                delay = due - time.monotonic()
                if delay > 0 and self.stop.wait(delay):
                    return
                action(http)
                due = max(due + interval, time.monotonic() - 5 * interval)

    def start(self) -> None:
        # Writes are counted in records: a bulk of 5 is 5 of the rate.
        per_request = (1 - BULK_SHARE) + BULK_SHARE * BULK_SIZE
        for requests_per_s, action in (
            (self.writes_per_s / per_request, self.write_one),
            (self.reads_per_s, self.read_one),
        ):
            if requests_per_s <= 0:
                continue
            threads = max(2, math.ceil(requests_per_s * self.concurrency_s))
            for _ in range(threads):
                thread = threading.Thread(
                    target=self._worker, args=(requests_per_s / threads, action), daemon=True
                )
                thread.start()
                self._workers.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self._workers:
            thread.join(self.op_deadline_s + 30)
