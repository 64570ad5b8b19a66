"""``carbonledger principals`` and ``carbonledger serve`` through ``main([...])`` and a
real server process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.cli import main
from ledger.store import Store, sqlite_url
from ledger.store.access import authenticate

REPO = Path(__file__).resolve().parents[2]


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_principals_add_key_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["principals", "--data-dir", str(tmp_path), "--json"]
    added = _cli(
        capsys,
        *base[:1],
        "--data-dir",
        str(tmp_path),
        "--json",
        "add",
        "plant",
        "--role",
        "producer",
        "--producer",
        "urn:carbonledger:producer:p",
        "--type",
        "carbon-record",
    )
    assert added["principals"] == [
        {
            "name": "plant",
            "role": "producer",
            "producer": "urn:carbonledger:producer:p",
            "record_types": ["carbon-record"],
            "grants": [],
            "created_at": added["principals"][0]["created_at"],  # type: ignore[index]
            "disabled_at": None,
        }
    ]
    issued = _cli(capsys, *base, "key", "plant")
    token = str(issued["api_key"])
    store = Store.open(sqlite_url(tmp_path))
    try:
        principal = store.run(lambda s: authenticate(s, token), readonly=True)
        assert principal is not None and principal.name == "plant"
        listed = _cli(capsys, *base, "list")
        assert [p["name"] for p in listed["principals"]] == ["plant"]  # type: ignore[attr-defined]
        assert _cli(capsys, *base, "revoke-key", str(issued["key_id"]))["revoked"]
        assert store.run(lambda s: authenticate(s, token), readonly=True) is None
    finally:
        store.close()
    # A producer principal without its producer id is a usage error (exit 2).
    assert main([*base, "add", "x", "--role", "producer"]) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_on_its_port(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONLEDGER_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from api.cli import main; sys.exit(main())",
         "serve", "--data-dir", str(tmp_path), "--chain", "memory",
         "--bind", f"127.0.0.1:{port}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        service = httpx.get(f"http://127.0.0.1:{port}/v1/service").json()
        published = json.loads((tmp_path / "service.json").read_text())
        assert service["service_key_id"] == published["service_key_id"]
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 503  # no chain to check the deployment against
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
