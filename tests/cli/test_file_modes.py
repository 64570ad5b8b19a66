"""The data directory is private (docs/OPERATIONS.md §7): 0700, every file in it 0600.

The defect these stop: ``ledger.sqlite3`` and its ``-wal``/``-shm`` were 0644 in a 0755
data directory, so every full view and salt was readable by any user of the machine,
while the key files beside them were 0600. The tests run with the usual umask 022, as an
operator's shell does.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cli import main
from api.datadir import DataDirError, secure_data_dir
from ledger.store import Store, sqlite_url
from tests.chainfixtures import REPO_ROOT
from tests.support.apiserver import served


@pytest.fixture(autouse=True)
def _operator_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CARBONLEDGER_"):
            monkeypatch.delenv(name)
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(data_dir: Path) -> dict[str, int]:
    """Relative path -> permission bits of everything under ``data_dir`` (itself as '.')."""
    out = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob("*"):
        if not path.is_symlink():
            out[str(path.relative_to(data_dir))] = stat.S_IMODE(path.stat().st_mode)
    return out


def _wider_than_private(modes: dict[str, int]) -> dict[str, str]:
    return {p: f"{m:04o}" for p, m in modes.items() if m & 0o077}


def _loose_store(data_dir: Path) -> None:
    """A store as the first version left it: 0644 files in a 0755 directory."""
    data_dir.mkdir(mode=0o755)
    db = Path(sqlite_url(data_dir).split("///", 1)[1])
    db.touch(mode=0o644)
    store = Store.open(sqlite_url(data_dir))
    try:
        with store.transaction() as session:  # leaves -wal and -shm behind while open
            session.connection()
        (data_dir / "service-running.log").write_text("x")
        os.chmod(data_dir / "service-running.log", 0o644)
        assert _wider_than_private(_modes(data_dir))
    finally:
        store.close()


def test_a_loose_data_directory_is_narrowed_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    _loose_store(data_dir)
    code = main(["status", "--data-dir", str(data_dir)])
    assert code == 0, capsys.readouterr().err
    assert _wider_than_private(_modes(data_dir)) == {}
    assert "narrowed" in capsys.readouterr().err


def test_a_new_store_and_its_wal_are_private_from_the_first_byte(tmp_path: Path) -> None:
    store = Store.open(sqlite_url(tmp_path / "data"))
    try:
        with store.transaction() as session:
            session.connection()
        modes = _modes(tmp_path / "data")
        assert {"ledger.sqlite3-wal", "ledger.sqlite3-shm"} <= set(modes)
        assert _wider_than_private(modes) == {}
    finally:
        store.close()


@pytest.mark.slow
def test_a_serving_api_keeps_everything_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with served(data_dir) as api:
        assert api.is_alive()
        modes = _modes(data_dir)
    assert {"ledger.sqlite3", "ledger.sqlite3-wal", "service-key.pem"} <= set(modes), modes
    assert _wider_than_private(modes) == {}
    assert modes["."] == 0o700


@pytest.mark.anvil
@pytest.mark.slow
def test_setting_up_a_dev_chain_keeps_everything_private(tmp_path: Path, anvil_path: Path) -> None:
    data_dir = tmp_path / "data"
    code = main(["up", "--data-dir", str(data_dir), "--project-root", str(REPO_ROOT)])
    assert code == 0
    modes = _modes(data_dir)
    assert {"ledger.sqlite3", "deployment.json", "anvil-state.json", "anvil.log"} <= set(modes)
    assert _wider_than_private(modes) == {}


def test_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    foreign = data_dir / "ledger.sqlite3"
    foreign.write_text("")
    os.chown(foreign, 4242, 4242)
    with pytest.raises(DataDirError, match="belongs to user id 4242"):
        secure_data_dir(data_dir)
    assert main(["status", "--data-dir", str(data_dir)]) == 2
