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
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import Chain, ChainSetupError, DevChain
from anchoring.chain.base import ArtifactLike
from anchoring.deployment import DeploymentRecord, ensure_deployment
from anchoring.fees import FeePolicy
from anchoring.ipfs import KuboPublisher
from anchoring.registry import Registry
from api.cli.common import admin_delay_s, configured_chain, record_dir, role_assignment
from api.limits import ApiLimits
from api.settings import CarbonLedgerSettings
from ledger.core import jsonshape
from ledger.core.canonical import format_timestamp
from ledger.core.clock import system_clock
from ledger.core.errors import (
    AnchoringError,
    DeploymentMismatchError,
    LedgerError,
    MalformedError,
    UnavailableError,
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

#: Not ``service.json``: that one holds the receipt key's public half (ledger.service).
SERVICE_FILE = "service-running.json"
SERVICE_FORMAT = "carbonledger-service-state/1"
#: How long a start-up waits for uvicorn to listen, and a stop for each part to end.
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


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
    #: Seconds between idle steps of the events worker (docs/EVENTS.md §4).
    exchange_interval_s: float = 1.0


@dataclass(frozen=True)
class ServiceState:
    """The content of ``service-running.json``: where a running service can be reached."""

    pid: int
    api_url: str
    chain_kind: str
    rpc_url: str | None
    chain_id: int
    anchor_registry: str
    trust_registry: str
    chain_pid: int | None
    started_at: str
    max_merge_delay_s: int

    def to_json(self) -> dict[str, Any]:
        return {"format": SERVICE_FORMAT, **self.__dict__}

    @classmethod
    def from_json(cls, obj: Any) -> ServiceState:
        jsonshape.members(obj, SERVICE_FILE, {"format", *cls.__dataclass_fields__})
        if obj["format"] != SERVICE_FORMAT:
            raise AnchoringError(f"not a {SERVICE_FORMAT} file")
        return cls(**{k: obj[k] for k in cls.__dataclass_fields__})


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie counts as gone on Linux)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def tls_files(settings: CarbonLedgerSettings) -> tuple[str | None, str | None]:
    """uvicorn's ``ssl_certfile`` and ``ssl_keyfile``: HTTPS when both are set (PACT's
    actions are served over HTTPS only, docs/PACT.md §1); (None, None) serves HTTP."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise ChainSetupError("HTTPS needs both CARBONLEDGER_TLS_CERT_FILE and _TLS_KEY_FILE")
    return str(cert), str(key)


def _is_ours(pid: int) -> bool:
    """Whether ``pid`` still runs carbonledger (a PID can be reused after a crash)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return is_alive(pid)
    return b"carbonledger" in cmdline or b"api.runner" in cmdline or b"api.cli" in cmdline


def read_service_state(data_dir: Path) -> ServiceState | None:
    """The running service of ``data_dir``, or None (no file, or its process is gone)."""
    try:
        state = ServiceState.from_json(json.loads((data_dir / SERVICE_FILE).read_text()))
    except (OSError, ValueError, TypeError, AnchoringError, MalformedError):
        return None
    if not is_alive(state.pid) or not _is_ours(state.pid):
        return None
    return state


def _write_state(data_dir: Path, state: ServiceState) -> None:
    path = data_dir / SERVICE_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


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
        self._anchorer_stop = threading.Event()
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
        )
        _write_state(self.data_dir, state)
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
        anchorer = Anchorer(
            store=store,
            chain=chain,
            deployment=deployment,
            artifacts=self.artifacts,
            limits=self.options.anchorer,
            fees=self.options.fees,
            publisher=KuboPublisher(self.options.kubo_url) if self.options.kubo_url else None,
        )
        anchorer.check_chain()  # refuse to start on a reset chain, before serving anything

        def loop() -> None:
            try:
                anchorer.run_forever(self._anchorer_stop)
            except LedgerError as exc:
                self._fail(f"the anchorer stopped: {exc.message}")
            except Exception as exc:
                self._fail(f"the anchorer stopped: {type(exc).__name__}: {exc}")

        thread = threading.Thread(target=loop, name="anchorer", daemon=True)

        def stop() -> None:
            self._anchorer_stop.set()
            thread.join(STOP_TIMEOUT_S)
            if thread.is_alive():
                log.warning("the anchorer did not finish its step within %s s", STOP_TIMEOUT_S)
            else:
                anchorer.close()

        thread.start()
        self._exit.callback(stop)

    def _start_exchange(self, store: Store, deployment: DeploymentRecord) -> None:
        """The events worker (docs/EVENTS.md §4): PACT index and answers, webhooks."""
        import ssl

        import httpx

        from api.app import data_owner
        from ledger.core.bundle import ChainRef
        from ledger.service.delivery import Deliverer, ExchangeWorker
        from ledger.service.exchange import PactService

        key = load_or_create(self.data_dir)
        context = ssl.create_default_context()
        if self.settings.outbound_ca_file is not None:
            context.load_verify_locations(cafile=str(self.settings.outbound_ca_file))
        http = httpx.Client(verify=context, follow_redirects=False)
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
        import uvicorn

        from api.app import create_app

        load_or_create(self.data_dir)  # the receipt key exists before the first request
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
        config = uvicorn.Config(
            app,
            host=self.options.api_host,
            port=self.options.api_port,
            log_level="warning",
            lifespan="off",
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        server = uvicorn.Server(config)

        def serve() -> None:
            try:
                server.run()
            except BaseException as exc:  # SystemExit when the port is taken
                self._fail(f"the API server stopped: {type(exc).__name__}: {exc}")
                return
            if not server.should_exit:
                self._fail("the API server stopped")

        thread = threading.Thread(target=serve, name="api", daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or self.failed.is_set():
                raise ChainSetupError(
                    f"the API could not listen on {self.options.api_host}:"
                    f"{self.options.api_port}: {self.failure or 'see the log'} (choose "
                    "another port with --api-port)"
                )
            if time.monotonic() > deadline:
                raise UnavailableError(f"the API did not start within {STARTUP_TIMEOUT_S} s")
            time.sleep(0.02)
        self.failed.clear()

        def stop() -> None:
            server.should_exit = True
            thread.join(STOP_TIMEOUT_S)

        self._exit.callback(stop)
        port = self.options.api_port
        for listener in server.servers:
            for sock in listener.sockets:
                port = int(sock.getsockname()[1])
        scheme = "https" if certfile else "http"
        return f"{scheme}://{self.options.api_host}:{port}"

    # -- run and stop -----------------------------------------------------------------

    def wait(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set or a part fails."""
        while not stop.is_set() and not self.failed.is_set():
            stop.wait(0.5)

    def stop(self) -> None:
        """Stop accepting, stop the anchorer, close the stores, stop the chain."""
        self._exit.close()


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
