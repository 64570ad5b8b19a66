"""The offline Solidity toolchain: py-solc-x over the npm solc front-end, against Hardhat 3."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from anchoring.toolchain import compile_contracts, standard_json_input
from ledger.core.errors import AnchoringError

pytestmark = [pytest.mark.node, pytest.mark.slow]


def _scratch_project(repo_root: Path, dest: Path, *, with_node_modules: bool = True) -> Path:
    """A copy of the project's build inputs, so a test never writes into the checkout."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "hardhat.config.js"):
        shutil.copy2(repo_root / name, dest / name)
    (dest / "contracts").mkdir()
    for path in (repo_root / "contracts").glob("*.sol"):
        shutil.copy2(path, dest / "contracts" / path.name)
    shutil.copy2(repo_root / "contracts" / "solc-settings.json", dest / "contracts")
    if with_node_modules:
        (dest / "node_modules").symlink_to(repo_root / "node_modules")
    return dest


def test_python_build_equals_hardhat_build(repo_root: Path, tmp_path: Path) -> None:
    project = _scratch_project(repo_root, tmp_path / "p")
    ours = compile_contracts(project_root=project)
    assert {"AnchorRegistry", "TrustRegistry"} <= set(ours)

    env = dict(os.environ, PATH=f"{repo_root / 'node_modules' / '.bin'}:{os.environ['PATH']}")
    run = subprocess.run(
        [str(repo_root / "node_modules" / ".bin" / "hardhat"), "build", "--no-tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    artifacts_dir = project / "build" / "hardhat" / "artifacts" / "contracts"
    for name, artifact in ours.items():
        hardhat = json.loads(
            (artifacts_dir / artifact.source_name.split("/")[-1] / f"{name}.json").read_text()
        )
        assert hardhat["deployedBytecode"] == "0x" + artifact.runtime_bytecode.hex(), name
        assert hardhat["bytecode"] == "0x" + artifact.bytecode.hex(), name
        assert hardhat["abi"] == artifact.abi, name
    # Same compiler and settings, read from the same file by both builds.
    build_info = next(
        (project / "build" / "hardhat" / "artifacts" / "build-info").glob("*[!t].json")
    )
    info = json.loads(build_info.read_text())
    ours_settings = standard_json_input(project)["settings"]
    for key in ("evmVersion", "optimizer", "metadata", "remappings"):
        assert info["input"]["settings"][key] == ours_settings[key], key
    assert info["solcLongVersion"] == next(iter(ours.values())).compiler_version


def test_artifacts_are_reused_while_sources_are_unchanged(repo_root: Path, tmp_path: Path) -> None:
    project = _scratch_project(repo_root, tmp_path / "p")
    first = compile_contracts(project_root=project)
    stamp = project / "build" / "contracts" / "build.json"
    mtime = stamp.stat().st_mtime_ns
    second = compile_contracts(project_root=project)
    assert stamp.stat().st_mtime_ns == mtime
    assert first == second
    # A change to a source invalidates the cache.
    source = project / "contracts" / "AnchorRegistry.sol"
    source.write_text(source.read_text() + "\n// changed\n")
    third = compile_contracts(project_root=project)
    assert stamp.stat().st_mtime_ns != mtime
    # The metadata hash moved with the source.
    assert third["AnchorRegistry"].bytecode != first["AnchorRegistry"].bytecode


def test_syntax_error_names_file_and_line(repo_root: Path, tmp_path: Path) -> None:
    project = _scratch_project(repo_root, tmp_path / "p")
    (project / "contracts" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\n"
        "pragma solidity 0.8.37;\n"
        "contract Broken {\n"
        "    function f() external pure returns (uint256) {\n"
        "        return 1\n"
        "    }\n"
        "}\n"
    )
    with pytest.raises(AnchoringError) as caught:
        compile_contracts(project_root=project)
    message = str(caught.value)
    assert "contracts/Broken.sol:6:" in message
    assert "ParserError" in message


def test_missing_npm_install_says_how_to_fix(repo_root: Path, tmp_path: Path) -> None:
    project = _scratch_project(repo_root, tmp_path / "p", with_node_modules=False)
    with pytest.raises(AnchoringError, match="npm ci"):
        compile_contracts(project_root=project)
