"""One dev chain per data directory (docs/OPERATIONS.md §3): while a command runs the dev
chain of a data directory, another refuses to start a second anvil on its state file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from api.cli import main
from api.cli.common import _dev_chain_lock
from tests.chainfixtures import REPO_ROOT


def test_a_second_dev_chain_on_one_state_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with _dev_chain_lock(data):
        code = main(["chain", "--data-dir", str(data), "--project-root", str(REPO_ROOT)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"another carbonledger command (pid {os.getpid()}) runs the dev chain" in err
    assert not (data / "anvil-state.json").exists()
