"""The ``dev`` chain: an anvil process we start on 127.0.0.1 (docs/OPERATIONS.md §6).

Its state lives in ``<data_dir>/anvil-state.json`` (``anvil --state``): anvil
loads it on start, dumps it every ``state_interval_s`` seconds and on exit. We
stop it with SIGTERM by PID and wait, which makes it write the file (checked by
tests/chain: contracts and batches survive a restart). A SIGKILL loses at most
the last interval; the anchorer re-anchors what the contract no longer has.

anvil (1.7.1) builds a new genesis block from the wall clock on every start and
adds it to the loaded state, so after a few restarts block 0 is any one of them
and the genesis hash would wander. We keep the first genesis timestamp in
``anvil-genesis.json`` and restart with ``--timestamp`` set to it, which
rebuilds the identical genesis; ``evm_setTime`` then puts the clock back to
now. Without a state file (a reset) the sidecar is dropped: a new chain gets a
new genesis.

Every dev chain has the same chain id and, deployed by the same operator account, the same
contract addresses; its genesis hash is what tells two apart (the deployment record and
``carbon-verify --genesis`` pin it). Two data directories created in the same second would
share a genesis timestamp, so a new chain's genesis also gets a random block gas limit
(30,000,000 plus a random 24-bit number, ``--gas-limit``; anvil's ``--init`` genesis file
cannot be combined with ``--state``), recorded in the sidecar and given again on every
restart.

Accounts come from the well-known test mnemonic so the operator account and the
ten prefunded accounts are the same on every run (they are public: the dev
chain listens on loopback only).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

import requests
from eth_account import Account
from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import RPCEndpoint

from anchoring.chain.base import Chain, ChainSetupError
from ledger.core.errors import AnchoringError, UnavailableError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

log = logging.getLogger(__name__)

DEV_CHAIN_ID = 31337
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10
STATE_FILE_NAME = "anvil-state.json"
GENESIS_FILE_NAME = "anvil-genesis.json"
LOG_FILE_NAME = "anvil.log"
#: A new dev chain's block gas limit: this base plus a random number below 2**24.
BASE_GAS_LIMIT = 30_000_000

_NPM_PLATFORMS = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}
_NPM_ARCHES = {"x86_64": "amd64", "AMD64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def default_anvil_path(project_root: Path) -> Path:
    """Where ``npm ci`` puts the anvil binary of ``@foundry-rs/anvil`` for this platform."""
    system = _NPM_PLATFORMS.get(platform.system(), platform.system().lower())
    arch = _NPM_ARCHES.get(platform.machine(), platform.machine())
    exe = "anvil.exe" if system == "win32" else "anvil"
    return project_root / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / exe


@functools.cache
def dev_account_keys() -> tuple[bytes, ...]:
    """Private keys anvil derives from DEV_MNEMONIC (BIP-44 path m/44'/60'/0'/0/i)."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        bytes(Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key)
        for i in range(DEV_ACCOUNT_COUNT)
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As anvil binds (SO_REUSEADDR): a port whose last connections sit in TIME_WAIT after
        # a stop is free to listen on again; one with a live listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUseError(port) from exc
            raise


class PortInUseError(ChainSetupError):
    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use: choose another port "
            "(--port / CARBONLEDGER_DEV_PORT, or leave it unset for a free one) "
            "or stop the process listening there"
        )
        self.port = port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM anvil when we die, so it still writes its state and never lingers."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _rpc_answers(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=0.5) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError):
        return False


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


class DevChain(Chain):
    """An anvil process owned by this object; ``stop()`` ends it by PID."""

    kind: ClassVar[str] = "dev"

    def __init__(
        self,
        *,
        process: subprocess.Popen[bytes],
        log_file: IO[bytes],
        rpc_url: str,
        state_path: Path,
        signer: LocalAccount | None,
        confirmations: int,
    ) -> None:
        self._process = process
        self._log_file = log_file
        self.state_path = state_path
        self.port = int(rpc_url.rsplit(":", 1)[1])
        self._accounts: list[LocalAccount] = [Account.from_key(k) for k in dev_account_keys()]
        provider = HTTPProvider(
            rpc_url,
            request_kwargs={"timeout": 30},
            exception_retry_configuration=ExceptionRetryConfiguration(
                errors=(ConnectionError, requests.Timeout), retries=2, backoff_factor=0.1
            ),
        )
        try:
            super().__init__(
                w3=Web3(provider),
                signer=signer or self._accounts[0],
                rpc_url=rpc_url,
                confirmations=confirmations,
                poll_interval_s=0.02,
            )
        except BaseException:
            self.stop()
            raise

    @classmethod
    def start(
        cls,
        *,
        data_dir: Path,
        anvil_path: Path,
        port: int | None = None,
        block_time_s: float | None = None,
        signer: LocalAccount | None = None,
        state_interval_s: int = 1,
        startup_timeout_s: float = 20.0,
        confirmations: int = 1,
    ) -> DevChain:
        """Start anvil (loading ``data_dir/anvil-state.json`` when present) and connect.

        ``port=None`` picks a free port; a pinned port that is taken raises
        PortInUseError before anything is started.
        """
        if not anvil_path.is_file():
            raise ChainSetupError(
                f"the anvil binary is missing ({anvil_path}): run `npm ci` in the project "
                "directory to install it"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if port is not None else 3
        for attempt in range(attempts):
            chosen = port if port is not None else _free_port()
            _check_port_free(chosen)
            try:
                return cls._spawn(
                    data_dir=data_dir,
                    anvil_path=anvil_path,
                    port=chosen,
                    block_time_s=block_time_s,
                    signer=signer,
                    state_interval_s=state_interval_s,
                    startup_timeout_s=startup_timeout_s,
                    confirmations=confirmations,
                )
            except PortInUseError:
                # A free port can be taken between our probe and anvil's bind.
                if port is not None or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @classmethod
    def _spawn(
        cls,
        *,
        data_dir: Path,
        anvil_path: Path,
        port: int,
        block_time_s: float | None,
        signer: LocalAccount | None,
        state_interval_s: int,
        startup_timeout_s: float,
        confirmations: int,
    ) -> DevChain:
        state_path = data_dir / STATE_FILE_NAME
        log_path = data_dir / LOG_FILE_NAME
        cmd = [
            str(anvil_path),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(DEV_CHAIN_ID),
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(DEV_ACCOUNT_COUNT),
            "--state", str(state_path),
            "--state-interval", str(state_interval_s),
        ]  # fmt: skip
        if block_time_s is not None:
            cmd += ["--block-time", str(block_time_s)]
        genesis = _read_genesis_sidecar(data_dir) if state_path.exists() else None
        if genesis is not None:
            cmd += ["--timestamp", str(genesis["timestamp"])]
            # A chain created before gas limits were drawn keeps anvil's default one.
            gas_limit = genesis.get("gas_limit")
        else:
            (data_dir / GENESIS_FILE_NAME).unlink(missing_ok=True)
            gas_limit = BASE_GAS_LIMIT + secrets.randbelow(2**24)
        if isinstance(gas_limit, int):
            cmd += ["--gas-limit", str(gas_limit)]
        log_file = log_path.open("ab")
        log_file.write(f"\n--- starting anvil on 127.0.0.1:{port} at {time.time():.0f}\n".encode())
        log_file.flush()
        try:
            process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            log_file.close()
            raise ChainSetupError(
                f"cannot run anvil at {anvil_path} ({exc}): run `npm ci` in the project directory"
            ) from exc
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + startup_timeout_s
        while not _rpc_answers(url):
            code = process.poll()
            if code is not None:
                log_file.close()
                tail = _log_tail(log_path)
                if "in use" in tail.lower():
                    raise PortInUseError(port)
                raise AnchoringError(
                    f"anvil exited with code {code} while starting: {tail or 'no output'} "
                    f"(full log: {log_path})"
                )
            if time.monotonic() > deadline:
                _terminate(process, timeout_s=10)
                log_file.close()
                raise UnavailableError(
                    f"anvil did not answer on {url} within {startup_timeout_s} s "
                    f"(log: {log_path}); the machine may be overloaded, try again"
                )
            time.sleep(0.05)
        log.info("anvil started: pid %s, %s, state %s", process.pid, url, state_path)
        chain = cls(
            process=process,
            log_file=log_file,
            rpc_url=url,
            state_path=state_path,
            signer=signer,
            confirmations=confirmations,
        )
        try:
            chain._settle_genesis(data_dir, restarted=genesis is not None, gas_limit=gas_limit)
        except BaseException:
            chain.stop()
            raise
        return chain

    def _settle_genesis(self, data_dir: Path, *, restarted: bool, gas_limit: Any) -> None:
        """Record the genesis of a new chain; after a restart put the clock back to now."""
        with self.boundary("reading the genesis block"):
            block0 = self.w3.eth.get_block(0)
            latest = int(self.w3.eth.get_block("latest")["timestamp"])
        if restarted:
            self._request("evm_setTime", [max(int(time.time()), latest)])
            return
        sidecar = data_dir / GENESIS_FILE_NAME
        tmp = sidecar.with_suffix(".json.tmp")
        tmp.write_text(
            json.dumps(
                {
                    "timestamp": int(block0["timestamp"]),
                    "gas_limit": gas_limit,
                    "genesis_hash": block0["hash"].to_0x_hex(),
                }
            )
        )
        os.replace(tmp, sidecar)

    @property
    def pid(self) -> int:
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.poll() is None

    def stop(self, *, timeout_s: float = 30.0) -> None:
        """SIGTERM anvil by PID and wait: on SIGTERM anvil writes its state file."""
        if self._process.poll() is None:
            before = _mtime_ns(self.state_path)
            _terminate(self._process, timeout_s=timeout_s)
            if _mtime_ns(self.state_path) == before:
                log.warning("anvil (pid %s) stopped without writing %s", self.pid, self.state_path)
        if not self._log_file.closed:
            self._log_file.close()

    def close(self) -> None:
        self.stop()

    def dev_accounts(self) -> list[LocalAccount]:
        return list(self._accounts)

    def _request(self, method: str, params: list[Any]) -> Any:
        with self.boundary(method):
            return self.w3.manager.request_blocking(RPCEndpoint(method), params)

    def snapshot(self) -> str:
        return str(self._request("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> None:
        if not self._request("evm_revert", [snapshot_id]):
            raise AnchoringError(f"no snapshot {snapshot_id!r} on the dev chain")

    def advance_time(self, seconds: int) -> None:
        if seconds < 0:
            raise AnchoringError(f"time only moves forward, got {seconds} s")
        self._request("evm_increaseTime", [seconds])
        self._request("evm_mine", [])


def _read_genesis_sidecar(data_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((data_dir / GENESIS_FILE_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("timestamp"), int):
        return None
    return data


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _terminate(process: subprocess.Popen[bytes], *, timeout_s: float) -> None:
    """SIGTERM by PID, then SIGINT, then SIGKILL: each given time to finish."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        try:
            process.wait(timeout=wait_s)
            if sig != signal.SIGTERM:
                log.warning("anvil (pid %s) needed %s to stop", process.pid, sig.name)
            return
        except subprocess.TimeoutExpired:
            continue
    raise AnchoringError(f"anvil (pid {process.pid}) could not be stopped")
