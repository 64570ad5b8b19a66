"""The HTTP server of the API: uvicorn in a thread, configured once for every entry point.

``carbonledger serve`` and the runner of ``carbonledger up`` both serve through
``ApiServer``, so the two cannot drift apart. What is decided here:

- uvicorn's proxy-header handling is off. By default uvicorn believes ``X-Forwarded-For``
  from 127.0.0.1, so any local client could claim any address (and walk around the login
  throttle). Which proxies are trusted is the app's decision (``trusted_proxies``,
  ``api.middleware.ClientAddressMiddleware``), made the same way under any server;
- uvicorn installs no logging configuration of its own and writes no access log: the
  app's access log (``api.middleware``) is one JSON line per request with its request id;
- no ``Server`` header (it names the software and its version to every client).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ledger.core.errors import LedgerError, UnavailableError

__all__ = ["ApiServer", "ServerStartError"]

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0


class ServerStartError(LedgerError):
    """The API could not listen (the port is taken, the address is not local)."""


class ApiServer:
    """uvicorn serving ``app`` on ``host:port`` in a thread (port 0: a free one)."""

    def __init__(self, app: Any, *, host: str, port: int) -> None:
        import uvicorn

        self.host = host
        self.port = port
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            proxy_headers=False,
            server_header=False,
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
        """Start listening; returns the base URL (``http://host:port``)."""
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
        return f"http://{self.host}:{self.bound_port()}"

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
