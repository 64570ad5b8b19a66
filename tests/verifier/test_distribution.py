"""The verifier installs alone: its wheel (packaging/carbon-verify) goes into a fresh venv
with nothing but pytest from the index, imports nothing of the server, and passes the
tests marked ``verifier_dist`` there, one of them against a real anvil started here.

Slow (a venv and a pip install from the index); the pip cache makes re-runs quick.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.verifier.support import Ledger

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: Distributions of the server that must never come with the verifier.
SERVER_ONLY = {
    "carbonledger", "sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn",
    "py-solc-x", "eth-tester", "py-evm", "psycopg", "jinja2", "pydantic-settings",
}  # fmt: skip
#: Modules that importing every verifier and core module must not load.
FORBIDDEN_MODULES = ("sqlalchemy", "fastapi", "starlette", "api", "anchoring", "ledger.store")


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


_MARKED = re.compile(r"^pytestmark = pytest\.mark\.verifier_dist$", re.MULTILINE)


def _dist_tests() -> list[Path]:
    """The test modules marked, as a whole, for the wheel-only venv."""
    return sorted(
        p for p in (ROOT / "tests").rglob("test_*.py") if _MARKED.search(p.read_text("utf-8"))
    )


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"),
          str(ROOT / "packaging" / "carbon-verify")])  # fmt: skip
    (wheel,) = (work / "dist").glob("carbon_verify-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          str(wheel), "pytest"])  # fmt: skip
    return python, wheel


def test_wheel_ships_only_the_verifier_and_the_core(wheel_venv: tuple[Path, Path]) -> None:
    import zipfile

    _, wheel = wheel_venv
    tops = {
        name.split("/")[0] + ("/" + name.split("/")[1] if name.startswith("ledger/") else "")
        for name in zipfile.ZipFile(wheel).namelist()
        if not name.startswith("carbon_verify-")
    }
    assert tops == {"verifier", "ledger/core"}
    shipped = zipfile.ZipFile(wheel).read("verifier/verify-report.schema.json")
    assert shipped == (ROOT / "docs" / "verify-report.schema.json").read_bytes()


def test_venv_holds_no_server_distribution(wheel_venv: tuple[Path, Path]) -> None:
    python, _ = wheel_venv
    listed = json.loads(_run([str(python), "-m", "pip", "list", "--format=json"]).stdout)
    names = {d["name"].lower().replace("_", "-") for d in listed}
    assert "carbon-verify" in names
    assert names & SERVER_ONLY == set()


def test_importing_the_wheel_loads_nothing_of_the_server(
    wheel_venv: tuple[Path, Path], tmp_path: Path
) -> None:
    """The architecture rule, on the installed wheel: every module of ``verifier`` and
    ``ledger.core`` imported, and no server module loaded (nor even installed)."""
    python, _ = wheel_venv
    code = (
        "import importlib, json, pkgutil, sys, importlib.util\n"
        "import verifier, ledger.core\n"
        "names = []\n"
        "for pkg in (verifier, ledger.core):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not info.name.endswith('__main__'):\n"
        "            importlib.import_module(info.name); names.append(info.name)\n"
        "print(json.dumps({'loaded': sorted(sys.modules), 'names': names,\n"
        "    'file': verifier.__file__,\n"
        "    'installed': [m for m in ('sqlalchemy', 'fastapi', 'api', 'anchoring')\n"
        "                  if importlib.util.find_spec(m) is not None]}))\n"
    )
    out = json.loads(_run([str(python), "-c", code], cwd=tmp_path).stdout)
    assert "verifier.evm.registry" in out["names"] and "verifier.cli" in out["names"]
    assert "site-packages" in out["file"]
    offenders = [
        m for m in out["loaded"] for bad in FORBIDDEN_MODULES if m == bad or m.startswith(bad + ".")
    ]
    assert offenders == [] and out["installed"] == []


def test_verifier_tests_pass_in_the_wheel_only_venv(
    wheel_venv: tuple[Path, Path], anvil_ledger: Ledger, tmp_path: Path
) -> None:
    python, _ = wheel_venv
    tree = tmp_path / "tree"
    files = _dist_tests()
    assert len(files) >= 5
    for path in files:
        rel = path.relative_to(ROOT)
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tree / rel)
        for parent in rel.parents:  # the packages the test modules live in
            if (ROOT / parent / "__init__.py").is_file():
                shutil.copy(ROOT / parent / "__init__.py", tree / parent / "__init__.py")
    shutil.copytree(ROOT / "tests" / "vectors", tree / "tests" / "vectors")
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(anvil_ledger.bundle_bytes())
    fixture = tmp_path / "fixture.json"
    fixture.write_text(
        json.dumps(
            {
                "rpc": str(anvil_ledger.chain.rpc_url),
                "chain_id": anvil_ledger.chain.chain_id,
                "registry": anvil_ledger.anchor_address,
                "bundle": str(bundle),
                "installed": True,
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["CARBON_VERIFY_FIXTURE"] = str(fixture)
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "verifier_dist",
         "-o", "markers=verifier_dist", *(str(f.relative_to(ROOT)) for f in files)],
        cwd=tree, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert " passed" in tail and "skipped" not in tail and "error" not in tail.lower(), tail
