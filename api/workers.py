"""Several API worker processes on one listening socket, kept alive by a supervisor.

``carbonledger serve --workers N`` and ``carbonledger up --serve --workers N`` serve
through ``ApiWorkers`` when N > 1 (docs/OPERATIONS.md, "Several API workers"). The
supervisor (the service's own process) binds the socket once and starts N processes
(``spawn``: a fresh interpreter each, nothing of the supervisor's threads, chain or
connections is inherited); each builds its app from an ``ApiRecipe`` and serves the
shared socket with uvicorn, configured exactly as ``ApiServer`` configures it. The kernel
hands each new connection to one worker.

A worker that dies (killed, out of memory) is replaced at once; the requests it was
answering are lost to their clients (the connection closes without a response), and the
store never saw half of one: each acceptance is one transaction. A worker that fails
before it ever served (the store cannot be opened, the TLS key cannot be read) is not
retried: the supervisor fails with the worker's reason, as ``ApiServer`` fails when it
cannot listen. A worker whose supervisor has gone (SIGKILL) stops on its own within a
second, so no orphan keeps the port.

Background work (the anchorer, the events worker, the chain monitor) stays in the
supervisor: the workers only answer HTTP.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.limits import ApiLimits
from api.metrics import share_metrics
from api.server import STOP_TIMEOUT_S, ServerStartError, tls_files, uvicorn_options
from ledger.core.errors import UnavailableError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from anchoring.deployment import DeploymentRecord
    from api.settings import CarbonLedgerSettings

__all__ = ["ApiRecipe", "ApiWorkers", "api_workers"]

log = logging.getLogger("carbonledger.workers")

#: Each worker is a fresh interpreter importing the app: slow on a busy machine.
STARTUP_TIMEOUT_S = 120.0
#: How often the supervisor looks for dead workers (and a worker for its supervisor).
WATCH_INTERVAL_S = 0.2


@dataclass(frozen=True)
class ApiRecipe:
    """What a worker needs to build the app: everything picklable, nothing opened yet.

    The store is opened without migrating (the supervisor migrated it before starting the
    workers); the chain, when ``rpc_url`` is given, is read for the readiness check only.
    """

    settings: CarbonLedgerSettings
    store_url: str
    deployment: DeploymentRecord | None = None
    rpc_url: str | None = None
    chain_id: int | None = None
    artifacts: dict[str, Any] | None = None
    limits: ApiLimits = field(default_factory=ApiLimits)
    max_merge_delay_s: int = 600
    #: The metrics directory the processes share (``api.metrics.share_metrics``).
    shared_metrics: Path | None = None
    #: Logging of the worker: level and JSON lines (as the supervisor's).
    log_level: int = logging.INFO
    json_logs: bool = True

    def build(self, worker: int, exit_stack: contextlib.ExitStack) -> Any:
        """The app of worker ``worker``; what it opens is closed by ``exit_stack``."""
        from api.app import create_app
        from api.logs import configure_logging
        from ledger.store import Store

        configure_logging(level=self.log_level, json_lines=self.json_logs)
        if self.shared_metrics is not None:
            share_metrics(self.shared_metrics)
        store = Store.open(self.store_url, create=False)
        exit_stack.callback(store.close)
        chain = None
        if self.rpc_url is not None and self.chain_id is not None:
            from eth_account import Account

            from anchoring.chain import RpcChain

            # Reads sign nothing; the account only satisfies the chain's constructor.
            chain = RpcChain(self.rpc_url, expected_chain_id=self.chain_id, signer=Account.create())
            exit_stack.callback(chain.close)
        app = create_app(
            self.settings,
            store=store,
            chain=chain,
            deployment=self.deployment,
            artifacts=self.artifacts,
            limits=self.limits,
            max_merge_delay_s=self.max_merge_delay_s,
            shared_metrics=self.shared_metrics,
        )
        # The OpenAPI document (the request metrics' route names come from it) is built
        # now, not by the first request a new worker answers (about a second of CPU).
        app.openapi()
        return app


def _watch_parent(parent_pid: int, server: Any) -> None:
    """Stop serving when the supervisor is gone (re-parented: ``getppid`` changes)."""
    while not server.should_exit:
        if os.getppid() != parent_pid:
            server.should_exit = True
            return
        time.sleep(WATCH_INTERVAL_S)


def _report_ready(index: int, server: Any, events: Any) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.02)
    if server.started:
        events.put((index, os.getpid(), "ready", ""))


def _worker_main(
    recipe: ApiRecipe,
    index: int,
    sock: socket.socket,
    options: dict[str, Any],
    events: Any,
    parent_pid: int,
) -> None:
    """The body of one worker process: build the app, serve ``sock`` until SIGTERM."""
    import uvicorn

    # A process group of its own: Ctrl-C in a terminal reaches the supervisor alone, which
    # stops the workers itself (else they would end first and be restarted meanwhile).
    os.setpgrp()

    with contextlib.ExitStack() as stack:
        try:
            app = recipe.build(index, stack)
            server = uvicorn.Server(uvicorn.Config(app, **options))
        except BaseException as exc:
            events.put((index, os.getpid(), "failed", f"{type(exc).__name__}: {exc}"))
            raise SystemExit(3) from exc
        threading.Thread(target=_watch_parent, args=(parent_pid, server), daemon=True).start()
        threading.Thread(target=_report_ready, args=(index, server, events), daemon=True).start()
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # the TLS files are read as it starts
            if not server.started:
                events.put((index, os.getpid(), "failed", f"{type(exc).__name__}: {exc}"))
            raise


class ApiWorkers:
    """N worker processes serving ``recipe``'s app on ``host:port`` (0: a free port);
    the same interface as ``ApiServer`` (``start``, ``wait``, ``stop``, ``failed``)."""

    def __init__(
        self,
        recipe: ApiRecipe,
        *,
        workers: int,
        host: str,
        port: int,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        #: The metrics directory of this run: fresh (no counts of an earlier run), private.
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="carbonledger-metrics-"))
        self.recipe = replace(recipe, shared_metrics=self.metrics_dir)
        self.workers = workers
        self.host = host
        self.port = port
        self.scheme = "https" if certfile else "http"
        self.options = uvicorn_options(host=host, port=port, certfile=certfile, keyfile=keyfile)
        self.failure: str | None = None
        self.failed = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self._events: Any = self._context.Queue()
        self._processes: list[BaseProcess | None] = [None] * workers
        self._ready: set[int] = set()
        self._stopping = threading.Event()
        self._socket: socket.socket | None = None
        self._watcher: threading.Thread | None = None

    # -- start --------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ServerStartError(
                f"the API could not listen on {self.host}:{self.port}: {exc.strerror} "
                "(choose another port)"
            ) from exc
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock

    def _spawn(self, index: int) -> BaseProcess:
        if self._socket is None:
            raise RuntimeError("workers are spawned only after the socket is bound")
        process = self._context.Process(
            target=_worker_main,
            args=(self.recipe, index, self._socket, self.options, self._events, os.getpid()),
            name=f"carbonledger-api-{index}",
            daemon=True,
        )
        process.start()
        self._processes[index] = process
        log.info("API worker %d started (pid %s)", index, process.pid)
        return process

    def start(self, *, timeout_s: float = STARTUP_TIMEOUT_S) -> str:
        """Bind, start every worker and wait until each serves; returns the base URL."""
        try:
            self._socket = self._bind()
        except BaseException:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)  # stop() is never reached
            raise
        for index in range(self.workers):
            self._spawn(index)
        deadline = time.monotonic() + timeout_s
        while len(self._ready) < self.workers:
            self._drain(timeout_s=0.1)
            if self.failed.is_set():
                self.stop()
                raise ServerStartError(self.failure or "an API worker failed")
            dead = [i for i, p in enumerate(self._processes) if p is not None and not p.is_alive()]
            if dead and not self._ready.issuperset(dead):
                self._drain(timeout_s=0.5)  # its own reason, when it gave one
                reason = self.failure or f"API worker {dead[0]} exited while starting"
                self.stop()
                raise ServerStartError(reason)
            if time.monotonic() > deadline:
                self.stop()
                raise UnavailableError(f"the API workers did not start within {timeout_s:.0f} s")
        self._watcher = threading.Thread(target=self._watch, name="api-workers", daemon=True)
        self._watcher.start()
        return f"{self.scheme}://{self._url_host()}:{self.bound_port()}"

    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def bound_port(self) -> int:
        if self._socket is None:
            return self.port
        return int(self._socket.getsockname()[1])

    # -- supervise ----------------------------------------------------------------------

    def _drain(self, *, timeout_s: float) -> None:
        try:
            index, pid, what, detail = self._events.get(timeout=timeout_s)
        except queue.Empty:
            return
        while True:
            if what == "ready":
                self._ready.add(index)
                log.info("API worker %d serves (pid %s)", index, pid)
            elif what == "failed":
                self._fail(f"API worker {index} could not start: {detail}")
            try:
                index, pid, what, detail = self._events.get_nowait()
            except queue.Empty:
                return

    def _fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = message
        log.error("%s", message)
        self.failed.set()

    def _watch(self) -> None:
        """Replace each worker that dies, until ``stop``."""
        while not self._stopping.wait(WATCH_INTERVAL_S):
            self._drain(timeout_s=0)
            if self.failed.is_set():
                return
            for index, process in enumerate(self._processes):
                if process is None or process.is_alive() or self._stopping.is_set():
                    continue
                process.join(0)
                log.error(
                    "API worker %d (pid %s) died with exit code %s: starting another",
                    index,
                    process.pid,
                    process.exitcode,
                )
                self._ready.discard(index)
                self._spawn(index)

    def wait(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set or a worker cannot start."""
        while not stop.is_set() and not self.failed.is_set():
            stop.wait(0.5)

    def stop(self, *, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM every worker (each finishes its requests in flight), then close."""
        self._stopping.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout_s)
        processes = [p for p in self._processes if p is not None]
        for process in processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("API worker pid %s did not stop within %s s: killed", process.pid,
                            timeout_s)  # fmt: skip
                process.kill()
                process.join(5.0)
        if self._socket is not None:
            self._socket.close()
        self._events.close()
        self._events.join_thread()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


def api_workers(
    settings: CarbonLedgerSettings,
    *,
    workers: int,
    host: str,
    port: int,
    store_url: str,
    deployment: DeploymentRecord | None,
    rpc_url: str | None,
    chain_id: int | None,
    artifacts: Mapping[str, Any] | None,
    limits: ApiLimits,
    max_merge_delay_s: int,
) -> ApiWorkers:
    """The workers of ``serve`` and ``up --serve``: logging as this process's, HTTPS as
    the settings say (``api.server.tls_files``)."""

    recipe = ApiRecipe(
        settings=settings,
        store_url=store_url,
        deployment=deployment,
        rpc_url=rpc_url,
        chain_id=chain_id,
        artifacts=dict(artifacts) if artifacts is not None else None,
        limits=limits,
        max_merge_delay_s=max_merge_delay_s,
        log_level=logging.getLogger().level,
        json_logs=settings.log_format != "text",
    )
    certfile, keyfile = tls_files(settings)
    return ApiWorkers(
        recipe, workers=workers, host=host, port=port, certfile=certfile, keyfile=keyfile
    )
