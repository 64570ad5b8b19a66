"""The composition root of ``carbonledger up --serve``: store, chain, anchorer and API together.

One process runs everything: the chain (a dev chain's anvil is our
child, or an RPC node we connect to), the deployment check, the anchorer in a thread
(``Anchorer.run_forever``) and the HTTP API (uvicorn on 127.0.0.1) in another. Shutdown,
on SIGINT or SIGTERM, runs in the reverse order of start-up: stop accepting (uvicorn stops
listening and finishes the requests in flight), stop the anchorer loop (it finishes its
step), close the stores, stop the dev chain by PID (SIGTERM, so anvil writes its state).

While it serves, ``<data_dir>/service-running.json`` says where (API URL, RPC URL, chain id,
registry addresses, PIDs); it is removed on a clean stop. ``carbonledger up --demo``
reads it to reuse a running service, and ``carbonledger down`` to stop one.

``up --demo`` starts the service in the background as ``python -m api.cli up --serve ARGS``,
so it runs from the working tree as well as installed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import Chain, ChainSetupError, DevChain
from anchoring.chain.base import ArtifactLike
from anchoring.deployment import DeploymentRecord, ensure_deployment
from anchoring.fees import FeePolicy
from anchoring.ipfs import KuboPublisher
from anchoring.registry import Registry
from api.anchorerkey import load_anchorer_signer
from api.anchorerthread import AnchorerThread
from api.cli.common import admin_delay_s, configured_chain, record_dir, role_assignment
from api.limits import ApiLimits
from api.metrics import chain_errors_counter, share_metrics
from api.server import ApiServer, ServerStartError, tls_files
from api.servicestate import (
    SERVICE_FILE,
    SERVICE_FORMAT,
    ServiceState,
    is_alive,
    read_service_state,
    write_service_state,
)
from api.settings import CarbonLedgerSettings
from api.workers import ApiWorkers, api_workers
from ledger.core.canonical import format_timestamp
from ledger.core.clock import system_clock
from ledger.core.errors import (
    DeploymentMismatchError,
    LedgerError,
)
from ledger.service import load_or_create
from ledger.store import Store, sqlite_url
from ledger.store.batches import latest_batch

__all__ = [
    "SERVICE_FILE",
    "SERVICE_FORMAT",
    "Runner",
    "RunnerOptions",
    "ServiceState",
    "is_alive",
    "read_service_state",
]

log = logging.getLogger("carbonledger.runner")

#: How long a stop waits for each part to end.
STOP_TIMEOUT_S = 30.0
#: Tries of a key switch while a batch is in flight under the old key (one poll apart).
SWITCH_ATTEMPTS = 120


@dataclass(frozen=True)
class RunnerOptions:
    """What the operator chose: resolved from settings and flags by ``carbonledger up``."""

    api_host: str = "127.0.0.1"
    #: 0 lets the OS pick a free port; the chosen one is in ``service-running.json``.
    api_port: int = 8080
    store_url: str | None = None
    max_merge_delay_s: int = 600
    max_body_bytes: int = ApiLimits.max_body_bytes
    anchorer: AnchorerLimits = field(default_factory=AnchorerLimits)
    fees: FeePolicy = field(default_factory=FeePolicy)
    #: Kubo RPC URL the anchorer publishes batch manifests to; None publishes nothing.
    kubo_url: str | None = None
    #: The chain monitor (api/monitor.py): seconds between probes, and each probe's timeout.
    monitor_interval_s: float = 2.0
    monitor_timeout_s: float = 2.0
    #: Seconds between idle steps of the events worker (docs/EVENTS.md §4).
    exchange_interval_s: float = 1.0
    #: API worker processes (``api.workers``); the background threads stay here, once.
    workers: int = 1


class Runner:
    """Starts the parts of the service in order and stops them in the reverse order."""

    def __init__(
        self,
        settings: CarbonLedgerSettings,
        options: RunnerOptions,
        *,
        anvil_path: Path,
        artifacts: Mapping[str, ArtifactLike],
    ) -> None:
        self.settings = settings
        self.options = options
        self.anvil_path = anvil_path
        self.artifacts = artifacts
        self.data_dir = settings.data_dir.resolve()
        self.chain: Chain | None = None
        self.deployment: DeploymentRecord | None = None
        self.state: ServiceState | None = None
        #: Set when a part fails on its own (the anchorer stopped, uvicorn died).
        self.failed = threading.Event()
        self.failure: str | None = None
        self._exit = contextlib.ExitStack()
        self._server: ApiServer | ApiWorkers | None = None
        self._anchorer: AnchorerThread | None = None
        self._metrics: Any = None
        self._exchange_stop = threading.Event()

    # -- start ------------------------------------------------------------------------

    def start(self) -> ServiceState:
        """Start everything; on any failure what was started is stopped again."""
        running = read_service_state(self.data_dir)
        if running is not None and running.pid != os.getpid():
            raise ChainSetupError(
                f"a carbonledger service already runs on {self.data_dir} (pid {running.pid}, "
                f"API {running.api_url}): use it, or stop it with `carbonledger down "
                f"--data-dir {self.data_dir}`"
            )
        try:
            self.state = self._start()
        except BaseException:
            self.stop()
            raise
        return self.state

    def _start(self) -> ServiceState:
        settings = self.settings
        self.data_dir.mkdir(parents=True, exist_ok=True)
        chain = self._exit.enter_context(configured_chain(settings, anvil_path=self.anvil_path))
        self.chain = chain
        deployment, created = ensure_deployment(
            chain,
            self.artifacts,
            data_dir=record_dir(settings),
            admin_delay_s=admin_delay_s(settings),
            roles=role_assignment(settings),
        )
        self.deployment = deployment
        log.info("deployment %s", "created" if created else "checked")
        url = self.options.store_url or sqlite_url(self.data_dir)
        # The anchorer and the API each get their own store (engine, connection pool).
        anchor_store = Store.open(url)
        self._exit.callback(anchor_store.close)
        api_store = Store.open(url)
        self._exit.callback(api_store.close)
        exchange_store = Store.open(url)
        self._exit.callback(exchange_store.close)
        self._check_history(anchor_store, chain, deployment)
        self._start_anchorer(anchor_store, chain, deployment)
        self._start_exchange(exchange_store, deployment)
        api_url = self._start_api(api_store, chain, deployment)
        if chain.rpc_url is not None:
            self._start_monitor(api_store, chain.rpc_url)
        state = ServiceState(
            pid=os.getpid(),
            api_url=api_url,
            chain_kind=chain.kind,
            rpc_url=chain.rpc_url,
            chain_id=chain.chain_id,
            anchor_registry=deployment.address_of("AnchorRegistry"),
            trust_registry=deployment.address_of("TrustRegistry"),
            chain_pid=chain.pid if isinstance(chain, DevChain) else None,
            started_at=format_timestamp(system_clock().replace(microsecond=0)),
            max_merge_delay_s=self.options.max_merge_delay_s,
            signer=chain.signer.address,
            anchorer=self._anchorer.address if self._anchorer is not None else None,
        )
        write_service_state(self.data_dir, state)
        self._exit.callback((self.data_dir / SERVICE_FILE).unlink, missing_ok=True)
        return state

    def _check_history(self, store: Store, chain: Chain, deployment: DeploymentRecord) -> None:
        """Refuse a store that knows fewer batches than the contract holds: its next batch
        could never be anchored (seq must be exactly the next one, docs/CONTRACTS.md), so every
        record accepted would wait for ever. A store replaced or lost under a kept chain,
        or a data directory whose chain holds batches written by other tools, ends here."""
        registry = Registry(
            chain, self.artifacts["AnchorRegistry"].abi, deployment.address_of("AnchorRegistry")
        )
        onchain = registry.next_seq() - 1
        with store.transaction(readonly=True) as session:
            latest = latest_batch(session)
        known = latest.seq if latest is not None else 0
        if onchain > known:
            raise DeploymentMismatchError(
                f"the AnchorRegistry at {registry.address} holds {onchain} batches but the "
                f"store in {self.data_dir} knows {known}: anchoring could never continue. "
                "Use the store that anchored them, or start afresh on a new deployment "
                "(`carbonledger deploy --replace`, or an empty data directory)"
            )

    def _fail(self, message: str) -> None:
        self.failure = message
        log.error("%s", message)
        self.failed.set()

    def _start_anchorer(self, store: Store, chain: Chain, deployment: DeploymentRecord) -> None:
        def make(signer: Any) -> Anchorer:
            return Anchorer(
                store=store,
                chain=chain,
                deployment=deployment,
                artifacts=self.artifacts,
                signer=signer,
                limits=self.options.anchorer,
                fees=self.options.fees,
                publisher=KuboPublisher(self.options.kubo_url) if self.options.kubo_url else None,
            )

        self._anchorer = AnchorerThread(make=make, store=store, on_failure=self._fail)
        self._anchorer.start(load_anchorer_signer(self.data_dir))
        self._exit.callback(self._anchorer.stop)

    def reload_anchorer_key(self, stop: threading.Event) -> bool:
        """SIGHUP: sign anchors with the key ``anchorer-key.json`` names now, without
        stopping the service (docs/OPERATIONS.md §10). False when it could not switch."""
        if self._anchorer is None or self.state is None:
            return False
        try:
            signer = load_anchorer_signer(self.data_dir)
        except LedgerError as exc:
            log.error("the anchorer's key was not changed: %s", exc.message)
            return False
        if signer is None or signer.address == self._anchorer.address:
            return True
        switched = self._anchorer.switch(
            signer,
            attempts=SWITCH_ATTEMPTS,
            wait=stop.wait,
            pause_s=max(self.options.anchorer.poll_interval_s, 0.5),
        )
        if switched:
            self.state = replace(self.state, anchorer=signer.address)
            write_service_state(self.data_dir, self.state)
        else:
            log.error("the anchorer's key was not changed: a batch stayed in flight")
        return switched

    def _start_exchange(self, store: Store, deployment: DeploymentRecord) -> None:
        """The events worker (docs/EVENTS.md §4): PACT index and answers, webhooks."""
        import httpx

        from api.app import data_owner
        from api.cli.common import client_tls_context
        from ledger.core.bundle import ChainRef
        from ledger.service.delivery import Deliverer, ExchangeWorker
        from ledger.service.exchange import PactService

        key = load_or_create(self.data_dir)
        http = httpx.Client(verify=client_tls_context(self.settings), follow_redirects=False)
        self._exit.callback(http.close)
        owner = data_owner(self.settings)
        chain_ref = ChainRef(
            deployment.chain_id,
            deployment.address_of("AnchorRegistry"),
            deployment.address_of("TrustRegistry"),
        )
        clock = system_clock
        pact = (
            PactService(
                store,
                clock=clock,
                owner=owner,
                chain=chain_ref,
                public_url=self.settings.public_url,
            )
            if owner is not None
            else None
        )
        worker = ExchangeWorker(
            pact=pact,
            deliverer=Deliverer(store, clock=clock, signing_key=key.private_key, http=http),
        )

        def loop() -> None:
            try:
                worker.run_forever(self._exchange_stop, interval_s=self.options.exchange_interval_s)
            except Exception as exc:
                self._fail(f"the events worker stopped: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=loop, name="exchange", daemon=True)

        def stop() -> None:
            self._exchange_stop.set()
            thread.join(STOP_TIMEOUT_S)

        thread.start()
        self._exit.callback(stop)

    def _start_api(self, store: Store, chain: Chain, deployment: DeploymentRecord) -> str:
        from api.app import create_app

        load_or_create(self.data_dir)  # the receipt key exists before the first request
        server: ApiServer | ApiWorkers
        if self.options.workers > 1:
            server = self._workers(chain, deployment)
        else:
            app = create_app(
                self.settings,
                store=store,
                chain=chain,
                deployment=deployment,
                artifacts=self.artifacts,
                limits=ApiLimits(max_body_bytes=self.options.max_body_bytes),
                max_merge_delay_s=self.options.max_merge_delay_s,
            )
            certfile, keyfile = tls_files(self.settings)
            server = ApiServer(
                app,
                host=self.options.api_host,
                port=self.options.api_port,
                certfile=certfile,
                keyfile=keyfile,
            )
            self._metrics = app.state.api.metrics
        try:
            url = server.start()  # each waits as long as its own start takes
        except ServerStartError as exc:
            raise ServerStartError(f"{exc.message} (choose another port with --api-port)") from exc
        self._server = server
        if isinstance(server, ApiWorkers):
            # The chain monitor runs here: its errors count in the workers' shared metrics.
            share_metrics(server.metrics_dir)
            self._metrics = SimpleNamespace(chain_errors=chain_errors_counter(None))
        self._exit.callback(server.stop, timeout_s=STOP_TIMEOUT_S)
        return url

    def _workers(self, chain: Chain, deployment: DeploymentRecord) -> ApiWorkers:
        """The API as ``options.workers`` processes (docs/OPERATIONS.md, "Several API
        workers"): each reads the chain at its RPC URL, so the memory chain cannot serve."""
        if chain.rpc_url is None:
            raise ChainSetupError(
                "several API workers need a chain each process can reach: the dev chain or "
                "--rpc, not the memory chain"
            )
        return api_workers(
            self.settings,
            workers=self.options.workers,
            host=self.options.api_host,
            port=self.options.api_port,
            store_url=self.options.store_url or sqlite_url(self.data_dir),
            deployment=deployment,
            rpc_url=chain.rpc_url,
            chain_id=chain.chain_id,
            artifacts=self.artifacts,
            limits=ApiLimits(max_body_bytes=self.options.max_body_bytes),
            max_merge_delay_s=self.options.max_merge_delay_s,
        )

    def _start_monitor(self, store: Store, rpc_url: str) -> None:
        from api.monitor import ChainMonitor

        metrics = self._metrics
        monitor = ChainMonitor(
            rpc_url=rpc_url,
            store=store,
            clock=store.clock,
            on_error=lambda: (
                metrics.chain_errors.labels("monitor").inc() if metrics is not None else None
            ),
            interval_s=self.options.monitor_interval_s,
            timeout_s=self.options.monitor_timeout_s,
        )
        stop = threading.Event()
        thread = threading.Thread(target=monitor.run, args=(stop,), name="monitor", daemon=True)
        thread.start()

        def end() -> None:
            stop.set()
            thread.join(STOP_TIMEOUT_S)

        self._exit.callback(end)

    # -- run and stop -----------------------------------------------------------------

    def wait(self, stop: threading.Event, reload: threading.Event | None = None) -> None:
        """Serve until ``stop`` is set or a part fails; ``reload`` (SIGHUP) re-reads the
        anchorer's key."""
        while not stop.is_set() and not self.failed.is_set():
            if self._server is not None and self._server.failed.is_set():
                self._fail(self._server.failure or "the API server stopped")
                break
            if reload is not None and reload.is_set():
                reload.clear()
                self.reload_anchorer_key(stop)
            stop.wait(0.5)

    def stop(self) -> None:
        """Stop accepting, stop the anchorer, close the stores, stop the chain."""
        self._exit.close()


@contextlib.contextmanager
def reload_on_sighup() -> Iterator[threading.Event]:
    """An event set by SIGHUP while the block runs (main thread only)."""
    reload = threading.Event()
    previous = signal.signal(signal.SIGHUP, lambda *_: reload.set())
    try:
        yield reload
    finally:
        signal.signal(signal.SIGHUP, previous)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (main thread only)."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
