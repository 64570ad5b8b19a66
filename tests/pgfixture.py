"""A throwaway PostgreSQL cluster for the storage tests (pytest plugin).

``pg_admin_url`` (session scope) is the URL of a superuser connection to a server on
127.0.0.1: the server named by ``CARBONLEDGER_TEST_PG_URL`` when that is set, or else a
cluster this module creates with the Debian binaries (``initdb``/``pg_ctl`` on PATH or in
``/usr/lib/postgresql/*/bin``), listening on a free port, with the default fsync=on, and
stopped with ``pg_ctl stop`` at the end of the session. ``pg_database_url`` gives each test
an empty database of its own (``test_<uuid>``) and drops it afterwards;
``pg_migrated_database_url`` one at the latest revision, made with ``CREATE DATABASE ...
TEMPLATE`` from a database the session migrated once (``pg_template``), which costs a
fifth of creating one and migrating it.

When no server binaries exist, the tests that need one are skipped with a reason saying so.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "CARBONLEDGER_TEST_PG_URL"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
    "/usr/lib/postgresql/*/bin; install them with `apt-get install postgresql` or set "
    f"{ENV_URL} to a server URL (postgresql+psycopg://user@127.0.0.1:5432/postgres)"
)


def _find_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Cluster:
    """One initdb'd data directory and the server pg_ctl started on it."""

    def __init__(self, bindir: Path, base: Path) -> None:
        self.bindir = bindir
        self.base = base
        self.datadir = base / "data"
        self.logfile = base / "server.log"
        self.port = _free_port()
        # initdb refuses to run as root: run the server tools as the postgres user then,
        # with a data directory that user owns.
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.prefix, *args], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            log = self.logfile.read_text() if self.logfile.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{log}"
            )

    def start(self) -> None:
        if self.prefix:
            import pwd

            entry = pwd.getpwnam("postgres")
            self.base.chmod(0o755)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--no-instructions",
        )
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories='{self.base}' -c max_connections=50"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.datadir),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


def _libpq_url(url: str) -> str:
    """The URL psycopg itself accepts (no SQLAlchemy dialect suffix)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url


def admin_execute(admin_url: str, *statements: str) -> None:
    """Runs statements outside a transaction (CREATE/DROP DATABASE need that)."""
    import psycopg

    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    configured = os.environ.get(ENV_URL)
    if configured:
        yield configured
        return
    bindir = _find_bindir()
    if bindir is None:
        pytest.skip(INSTALL_HINT)
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root and `runuser` is missing: cannot start PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="carbonledger-pg-"))
    cluster = _Cluster(bindir, base)
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
        raise
    try:
        yield cluster.url
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def _database(admin_url: str, *, template: str | None = None) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex}"
    source = f' TEMPLATE "{template}"' if template else ""
    admin_execute(admin_url, f'CREATE DATABASE "{name}"{source}')
    try:
        yield name
    finally:
        admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database_url(pg_admin_url: str) -> Iterator[str]:
    with _database(pg_admin_url) as name:
        yield database_url(pg_admin_url, name)


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """The name of a database migrated to the latest revision, once per session (and per
    xdist worker: each has its own name, so runs sharing a configured server never meet)."""
    from ledger.store import Store

    with _database(pg_admin_url) as name:
        # Store.close disposes of the engine: no connection is left on the template, which
        # CREATE DATABASE ... TEMPLATE requires.
        Store.open(database_url(pg_admin_url, name)).close()
        yield name


@pytest.fixture
def pg_migrated_database_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    with _database(pg_admin_url, template=pg_template) as name:
        yield database_url(pg_admin_url, name)
