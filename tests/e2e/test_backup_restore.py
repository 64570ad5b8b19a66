"""``carbonledger backup`` while the service runs and takes records, ``restore`` into a fresh
data directory, and ``check`` passes there, on-chain checks included (docs/OPERATIONS.md §9).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli import main
from tests.chainfixtures import REPO_ROOT
from tests.e2e.conftest import cli, producer_token, serving
from tests.support import ledgerdata

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _submit(api: str, token: str, first: int, count: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=api, timeout=30) as http:
        for n in range(first, first + count):
            rid = ledgerdata.record_id("backup", n)
            response = http.post(
                "/v1/records",
                content=ledgerdata.submission(rid),
                headers={**headers, "Idempotency-Key": rid},
            )
            assert response.status_code == 201, response.text


def test_backup_while_writing_then_restore_and_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(tmp_path / "data", "--batch-age-s", "1") as (data, state):
        common = ("--data-dir", str(data), "--project-root", str(REPO_ROOT))
        token = producer_token(data, tmp_path, capsys)
        _submit(state["api_url"], token, 1, 10)
        deadline = time.monotonic() + 120
        while json.loads(cli(capsys, "status", "--json", *common))["records"]["anchored"] < 10:
            assert time.monotonic() < deadline, "the first records were not anchored"
            time.sleep(0.5)
        writer = threading.Thread(target=_submit, args=(state["api_url"], token, 100, 15))
        writer.start()
        try:
            backup = tmp_path / "backup"
            manifest = json.loads(cli(capsys, "backup", str(backup), "--json", *common))
        finally:
            writer.join()
        assert manifest["store"]["records"] >= 10
        assert {"deployment.json", "service-key.pem", "ledger.sqlite3"} <= set(manifest["files"])
        fresh = tmp_path / "restored"
        cli(capsys, "restore", str(backup), "--data-dir", str(fresh))
        check: dict[str, Any] = json.loads(
            cli(capsys, "check", "--json", "--data-dir", str(fresh), "--rpc", state["rpc_url"],
                 "--chain-id", str(state["chain_id"]), "--project-root", str(REPO_ROOT))
        )  # fmt: skip
        assert check["ok"] and not check["chain_unavailable"]
        assert all(c["status"] in ("PASS", "SKIP") for c in check["checks"])
        assert {c["number"] for c in check["checks"] if c["status"] == "PASS"} >= {1, 2, 5, 7, 8}
        restored = json.loads(cli(capsys, "status", "--json", "--data-dir", str(fresh)))
        assert sum(restored["records"].values()) == manifest["store"]["records"]
        # A damaged backup is refused before anything is written.
        (backup / "deployment.json").write_text("{}")
        code = main(["restore", str(backup), "--data-dir", str(tmp_path / "again")])
        assert code == 2 and "damaged: deployment.json" in capsys.readouterr().err
        assert not (tmp_path / "again").exists()
