"""``carbonledger serve`` as a real process on a free port of 127.0.0.1.

What only a separate process shows: that a request cannot kill it (a segmentation fault
in the app would take pytest down with it in-process), and what uvicorn itself does with
headers such as ``X-Forwarded-For``. The command prints its base URL on stdout once it
listens (``--bind 127.0.0.1:0`` lets the OS pick the port).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.chainfixtures import REPO_ROOT
from tests.support.processes import terminate

START_TIMEOUT_S = 60.0


@dataclass
class ServedApi:
    url: str
    process: subprocess.Popen[bytes]

    def is_alive(self) -> bool:
        return self.process.poll() is None


def _read_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not selector.select(remaining):
            raise AssertionError(f"serve printed no URL within {timeout_s} s")
        chunk = os.read(process.stdout.fileno(), 1)
        if not chunk:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise AssertionError(f"serve exited with {process.wait()}: {err}")
        line += chunk
    return line.decode().strip()


@contextlib.contextmanager
def served(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[ServedApi]:
    """Run ``carbonledger serve --chain memory`` over ``data_dir`` until the block ends."""
    command = [
        sys.executable, "-c", "from api.cli import main; raise SystemExit(main())",
        "serve", "--chain", "memory", "--data-dir", str(data_dir),
        "--bind", "127.0.0.1:0", *args,
    ]  # fmt: skip
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = str(REPO_ROOT)
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = _read_line(process, START_TIMEOUT_S)
        yield ServedApi(url.removesuffix("/v1"), process)
    finally:
        terminate(process, grace_s=30)
