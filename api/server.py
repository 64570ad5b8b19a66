"""The HTTP server of the API: uvicorn in a thread, configured once for every entry point.

``carbonledger serve`` and the runner of ``carbonledger up`` both serve through
``ApiServer``, so the two cannot drift apart. What is decided here:

- uvicorn's proxy-header handling is off. By default uvicorn believes ``X-Forwarded-For``
  from 127.0.0.1, so any local client could claim any address (and walk around the login
  throttle). Which proxies are trusted is the app's decision (``trusted_proxies``,
  ``api.middleware.ClientAddressMiddleware``), made the same way under any server;
- uvicorn installs no logging configuration of its own and writes no access log: the
  app's access log (``api.middleware``) is one JSON line per request with its request id;
- no ``Server`` header (it names the software and its version to every client);
- HTTPS when a certificate and its key are configured (PACT's actions are served over
  HTTPS only, docs/PACT.md §1), plain HTTP otherwise.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from anchoring.chain.types import ChainSetupError
from ledger.core.errors import LedgerError, UnavailableError

if TYPE_CHECKING:
    from api.settings import CarbonLedgerSettings

__all__ = ["ApiServer", "ServerStartError", "tls_files", "uvicorn_options"]

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


class ServerStartError(LedgerError):
    """The API could not listen (the port is taken, the address is not local)."""


def tls_files(settings: CarbonLedgerSettings) -> tuple[str | None, str | None]:
    """uvicorn's ``ssl_certfile`` and ``ssl_keyfile``: HTTPS when both are set; (None, None)
    serves HTTP. One set without the other is a setup error naming both settings."""
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise ChainSetupError("HTTPS needs both CARBONLEDGER_TLS_CERT_FILE and _TLS_KEY_FILE")
    return str(cert), str(key)


def uvicorn_options(
    *, host: str, port: int, certfile: str | None, keyfile: str | None
) -> dict[str, Any]:
    """uvicorn's configuration (all but the app) as decided above: the one place for it,
    used by ``ApiServer`` and by each of ``api.workers.ApiWorkers``' processes."""
    return {
        "host": host,
        "port": port,
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "proxy_headers": False,
        "server_header": False,
        "ssl_certfile": certfile,
        "ssl_keyfile": keyfile,
    }


class ApiServer:
    """uvicorn serving ``app`` on ``host:port`` in a thread (port 0: a free one), over
    HTTPS when ``certfile`` and ``keyfile`` are given."""

    def __init__(
        self,
        app: Any,
        *,
        host: str,
        port: int,
        certfile: str | None = None,
        keyfile: str | None = None,
    ) -> None:
        import uvicorn

        self.host = host
        self.port = port
        self.scheme = "https" if certfile else "http"
        self.config = uvicorn.Config(
            app, **uvicorn_options(host=host, port=port, certfile=certfile, keyfile=keyfile)
        )
        self.server = uvicorn.Server(self.config)
        self.failure: str | None = None
        self.failed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="api", daemon=True)

    def _serve(self) -> None:
        try:
            self.server.run()
        except BaseException as exc:  # SystemExit when the port is taken
            self.failure = f"the API server stopped: {type(exc).__name__}: {exc}"
            self.failed.set()
            return
        if not self.server.should_exit:
            self.failure = "the API server stopped"
            self.failed.set()

    def start(self, *, timeout_s: float = STARTUP_TIMEOUT_S) -> str:
        """Start listening; returns the base URL (``http(s)://host:port``)."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or self.failed.is_set():
                raise ServerStartError(
                    f"the API could not listen on {self.host}:{self.port}: "
                    f"{self.failure or 'see the log'} (choose another port)"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise UnavailableError(f"the API did not start within {timeout_s:.0f} s")
            time.sleep(0.02)
        return f"{self.scheme}://{self.host}:{self.bound_port()}"

    def bound_port(self) -> int:
        for listener in self.server.servers:
            for sock in listener.sockets:
                return int(sock.getsockname()[1])
        return self.port

    def wait(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set or the server fails on its own."""
        while not stop.is_set() and not self.failed.is_set():
            stop.wait(0.5)

    def stop(self, *, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop listening and finish the requests in flight."""
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout_s)
