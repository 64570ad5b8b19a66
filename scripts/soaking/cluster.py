"""The service under test and its chain, as separate processes the soak can kill.

The chain is an anvil started like the dev chain (``anchoring.chain.DevChain``: its state
in a directory of its own, dumped every second, the genesis rebuilt identically on each
start) on a port fixed for the run, and the service (``carbonledger up --serve``) uses it
as an ``rpc`` chain with the dev chain's first account as its signer. So either can be
killed with SIGKILL and started again on its own: the service finds the chain where it
was, the chain finds its state (less its last second, which the anchorer notices and
anchors again).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from anchoring.chain import DEV_CHAIN_ID, DevChain
from anchoring.chain.dev import dev_account_keys

__all__ = ["Cluster", "free_port"]

READY_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    repo: Path
    anvil_path: Path
    batch_age_s: float = 2.0
    batch_size: int = 500
    max_merge_delay_s: int = 120
    chain_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    chain: DevChain | None = None
    service: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLEDGER_")}
        env["CARBONLEDGER_SIGNER_KEY"] = dev_account_keys()[0].hex()
        env["PYTHONPATH"] = str(self.repo)
        return env

    def cli_args(self) -> list[str]:
        return [
            "--data-dir", str(self.data_dir), "--rpc", self.rpc_url,
            "--chain-id", str(DEV_CHAIN_ID), "--project-root", str(self.repo),
        ]  # fmt: skip

    # -- the chain -----------------------------------------------------------------

    def start_chain(self) -> None:
        self.chain = DevChain.start(
            data_dir=self.root / "chain", anvil_path=self.anvil_path, port=self.chain_port
        )

    def kill_chain(self) -> None:
        if self.chain is not None:
            os.kill(self.chain.pid, signal.SIGKILL)
            self.chain.stop()  # reaps it and closes its log
            self.chain = None

    # -- the service ---------------------------------------------------------------

    def start_service(self) -> float:
        """Start ``up --serve`` and wait until ``/readyz``; returns the seconds it took."""
        started = time.monotonic()
        command = [
            sys.executable, "-m", "api.cli", "up", "--serve", *self.cli_args(),
            "--api-port", str(self.api_port), "--batch-age-s", str(self.batch_age_s),
            "--batch-size", str(self.batch_size),
            "--max-merge-delay-s", str(self.max_merge_delay_s),
        ]  # fmt: skip
        log = (self.root / "service.out").open("ab")
        self.service = subprocess.Popen(
            command, cwd=self.repo, env=self.env(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self.starts += 1
        deadline = started + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.service.poll() is not None:
                raise RuntimeError(f"the service exited with {self.service.returncode}")
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=5).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the service was not ready within {READY_TIMEOUT_S} s")

    def kill_service(self) -> None:
        if self.service is not None and self.service.poll() is None:
            self.service.send_signal(signal.SIGKILL)
            self.service.wait()

    def stop(self) -> None:
        if self.service is not None and self.service.poll() is None:
            self.service.send_signal(signal.SIGTERM)
            try:
                self.service.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait()
        if self.chain is not None:
            self.chain.stop()
            self.chain = None
