"""Publishing batch manifests to an IPFS node: an outbox step of its own.

docs/OPERATIONS.md §1: a manifest's CIDv1 is computed locally when its batch is sealed and is what
the anchor carries; publishing the manifest bytes to a Kubo node is optional (by URL). So
publishing never gates anchoring, and anchoring never waits for it:

- each anchorer step publishes the manifests not yet published, oldest first, at most
  ``max_per_step`` of them, and records each success (``batches.manifest_published_at``) in
  its own transaction after the node answered with our CID;
- a node that does not answer (``UnavailableError``) raises one ``ipfs_unavailable`` alert
  and publishing backs off (doubling, up to ``backoff_max_s``); the first success after it
  resolves the alert;
- a refusal (``AnchoringError``: the node answered another CID, or the manifest exceeds
  Kubo's 1 MiB block limit) raises a ``manifest_not_published`` alert naming the batch and
  the reason, and that batch is not tried again by this anchorer (a restart retries it):
  retrying the same bytes would get the same answer;
- a crash between the node's answer and our commit costs one repeat: ``block/put`` of the
  same bytes stores the same block.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from anchoring.fees import StepReport
from ledger.core.clock import Clock
from ledger.core.errors import AnchoringError, LedgerError, UnavailableError
from ledger.store import Store
from ledger.store import batches as batch_repo
from ledger.store.alerts import alert_once, open_alerts, raise_alert, resolve_alerts

log = logging.getLogger(__name__)

UNAVAILABLE_ALERT = "ipfs_unavailable"
REFUSED_ALERT = "manifest_not_published"


class ManifestPublisher(Protocol):
    """Stores manifest bytes under their CID; ``anchoring.ipfs.KuboPublisher`` is one.

    Raises ``UnavailableError`` when the node does not answer (retried later) and
    ``AnchoringError`` when it refuses the manifest or answers another CID (not retried).
    """

    def publish(self, manifest: bytes, *, expected_cid: str) -> str: ...


@dataclass(frozen=True)
class PublishLimits:
    """Pace of publishing (passed down from the operator's settings)."""

    max_per_step: int = 10
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_per_step < 1:
            raise AnchoringError(f"max_per_step must be at least 1, got {self.max_per_step}")


class Publishing:
    """The publishing step of the anchorer (see the module docstring)."""

    def __init__(
        self,
        *,
        store: Store,
        publisher: ManifestPublisher,
        clock: Clock,
        limits: PublishLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock
        self.limits = limits or PublishLimits()
        self._monotonic = monotonic
        self._backoff_s = 0.0
        self._next_try_at: float | None = None
        self._unavailable_noted = False
        #: Batches the node refused, by seq, with the reason (retried after a restart).
        self.refused: dict[int, str] = {}

    def is_backing_off(self) -> bool:
        return self._next_try_at is not None and self._monotonic() < self._next_try_at

    def run(self, report: StepReport) -> None:
        """Publish what is due; never raises for the node's sake (the store's errors pass)."""
        if self.is_backing_off():
            return
        with self.store.transaction(readonly=True) as session:
            due = [
                (b.seq, b.manifest, b.manifest_cid)
                for b in batch_repo.unpublished_batches(
                    session, limit=self.limits.max_per_step, skip=sorted(self.refused)
                )
            ]
        for seq, manifest, cid in due:
            try:
                self.publisher.publish(manifest, expected_cid=cid)
            except UnavailableError as exc:
                self._back_off(exc, report)
                return
            except AnchoringError as exc:
                self._refuse(seq, exc, report)
                continue
            with self.store.transaction() as session:
                batch_repo.mark_published(session, seq, at=self.clock())
                if self._unavailable_noted:
                    resolve_alerts(session, UNAVAILABLE_ALERT, at=self.clock())
            self._unavailable_noted = False
            self._backoff_s = 0.0
            self._next_try_at = None
            report.published.append(seq)

    def _back_off(self, exc: UnavailableError, report: StepReport) -> None:
        limits = self.limits
        self._backoff_s = min(
            max(self._backoff_s * 2, limits.backoff_initial_s), limits.backoff_max_s
        )
        self._next_try_at = self._monotonic() + self._backoff_s
        log.warning(
            "the IPFS node does not answer; publishing retries in %.1f s: %s",
            self._backoff_s,
            exc.message,
        )
        self._unavailable_noted = True
        with self.store.transaction() as session:
            raised = alert_once(
                session,
                kind=UNAVAILABLE_ALERT,
                message="the IPFS node does not answer: manifests wait to be published and "
                f"publishing retries with backoff (anchoring goes on): {exc.message}",
                at=self.clock(),
            )
        if raised:
            report.alerts.append(UNAVAILABLE_ALERT)

    def _refuse(self, seq: int, exc: AnchoringError, report: StepReport) -> None:
        self.refused[seq] = exc.message
        message = (
            f"batch {seq}: the manifest was not published and will not be retried until the "
            f"anchorer restarts (the anchor and the local CID are unaffected): {exc.message}"
        )
        log.error("%s", message)
        with self.store.transaction() as session:
            # One open alert per batch and reason, also across restarts.
            if any(a.kind == REFUSED_ALERT and a.message == message for a in open_alerts(session)):
                return
            raise_alert(session, kind=REFUSED_ALERT, message=message, at=self.clock())
        report.alerts.append(REFUSED_ALERT)


def optional_publishing(
    publisher: ManifestPublisher | None,
    *,
    store: Store,
    clock: Clock,
    limits: PublishLimits | None = None,
) -> Publishing | None:
    """The publishing step, or None when no node is configured (nothing is published)."""
    if publisher is None:
        return None
    return Publishing(store=store, publisher=publisher, clock=clock, limits=limits)


def publish_step(
    publishing: Publishing | None, report: StepReport, *, quietly: bool = False
) -> None:
    """Run the publishing step, if any. ``quietly`` after a failed anchoring step: the chain
    being down must not hold publishing back, and the anchoring error (re-raised by the
    caller) must not be replaced by one of ours."""
    if publishing is None:
        return
    if not quietly:
        publishing.run(report)
        return
    try:
        publishing.run(report)
    except LedgerError as exc:
        log.warning("publishing skipped this step: %s", exc.message)
