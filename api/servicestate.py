"""Where a running service can be reached: ``<data_dir>/service-running.json``.

The runner (``carbonledger up --serve``) writes it once everything listens and removes it
on a clean stop: the API URL, the chain (kind, RPC URL, chain id, registry addresses, the
operator's signer address) and the PIDs of the service and of the dev chain it started.
Every other command reads it (``read_service_state``) to use that service and its chain
instead of starting a second one on the same state (docs/OPERATIONS.md §3).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.datadir import write_private_json
from ledger.core.canonical import parse_json
from ledger.core.errors import LedgerError, MalformedError

__all__ = [
    "SERVICE_FILE",
    "SERVICE_FORMAT",
    "ServiceState",
    "is_alive",
    "read_service_state",
    "write_service_state",
]

#: Not ``service.json``: that one holds the receipt key's public half (ledger.service).
SERVICE_FILE = "service-running.json"
SERVICE_FORMAT = "carbonledger-service-state/1"
_MAX_BYTES = 64 * 1024


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
    #: The operator's signer address on that chain.
    signer: str | None = None
    #: The address the anchorer signs with (the operator's, or anchorer-key.json's).
    anchorer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"format": SERVICE_FORMAT, **self.__dict__}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ServiceState:
        if not isinstance(obj, Mapping) or obj.get("format") != SERVICE_FORMAT:
            raise MalformedError(f"not a {SERVICE_FORMAT} file")
        optional = {"signer", "anchorer"}
        missing = [k for k in cls.__dataclass_fields__ if k not in obj and k not in optional]
        if missing:
            raise MalformedError(f"{SERVICE_FILE} lacks {', '.join(missing)}")
        return cls(**{k: obj[k] for k in cls.__dataclass_fields__ if k in obj})


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


def _is_ours(pid: int) -> bool:
    """Whether ``pid`` still runs carbonledger (a PID can be reused after a crash)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return is_alive(pid)
    return b"carbonledger" in cmdline or b"api.cli" in cmdline


def read_service_state(data_dir: Path) -> ServiceState | None:
    """The running service of ``data_dir``, or None (no file, an unreadable one, or its
    process is gone)."""
    try:
        raw = (data_dir / SERVICE_FILE).read_bytes()
        state = ServiceState.from_json(parse_json(raw, max_bytes=_MAX_BYTES))
    except (OSError, TypeError, LedgerError):
        return None
    if not is_alive(state.pid) or not _is_ours(state.pid):
        return None
    return state


def write_service_state(data_dir: Path, state: ServiceState) -> None:
    write_private_json(data_dir / SERVICE_FILE, state.to_json())
