"""Compiling the Solidity contracts from Python, offline.

py-solc-x drives ``anchoring/solc_frontend.cjs``, a solc-compatible command line
over the npm ``solc`` package (wasm), so no compiler is ever downloaded.
Hardhat 3 builds the same sources with the same compiler and settings
(``contracts/solc-settings.json`` is read by both) and the same source unit
names (``project/...``, ``npm/<pkg>@<version>/...``), so the runtime bytecode,
metadata hash included, is byte-identical; ``tests/contracts`` checks it.

Artifacts are cached in the build directory and reused while the sources,
the settings and the compiler are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from ledger.core.errors import AnchoringError

ARTIFACT_FORMAT = "carbonledger-artifact/1"
CONTRACTS_DIR = "contracts"
SETTINGS_FILE = "contracts/solc-settings.json"
PROJECT_PREFIX = "project/"
_IMPORT_RE = re.compile(r"""^\s*import\s+(?:[^"']*\s+from\s+)?["']([^"']+)["']""", re.MULTILINE)
_NPM_IMPORT_RE = re.compile(r"^((?:@[^/]+/)?[^/]+)/")
_LOCATION_RE = re.compile(r"-->\s+(\S+?):(\d+):(\d+):")


@dataclass(frozen=True)
class ContractArtifact:
    """One compiled contract, as the deployer and the verifier need it."""

    name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime_bytecode: bytes
    runtime_code_hash_hex: str
    compiler_version: str
    settings: dict[str, Any]
    immutable_references: dict[str, list[dict[str, int]]] = field(default_factory=dict)

    def matches_runtime_code(self, onchain_code: bytes) -> bool:
        """True when code read from the chain is this contract's runtime code.

        Immutable variables are written into the code at deployment, so their
        byte ranges are masked before comparing.
        """
        if len(onchain_code) != len(self.runtime_bytecode):
            return False
        if not self.immutable_references:
            return onchain_code == self.runtime_bytecode
        mask = bytearray(onchain_code)
        for refs in self.immutable_references.values():
            for ref in refs:
                start, length = ref["start"], ref["length"]
                mask[start : start + length] = self.runtime_bytecode[start : start + length]
        return bytes(mask) == self.runtime_bytecode

    def to_json(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "name": self.name,
            "source_name": self.source_name,
            "abi": self.abi,
            "bytecode": "0x" + self.bytecode.hex(),
            "runtime_bytecode": "0x" + self.runtime_bytecode.hex(),
            "runtime_code_hash": self.runtime_code_hash_hex,
            "compiler_version": self.compiler_version,
            "settings": self.settings,
            "immutable_references": self.immutable_references,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractArtifact:
        if data.get("format") != ARTIFACT_FORMAT:
            raise AnchoringError(f"artifact {data.get('name')!r}: unsupported format")
        return cls(
            name=data["name"],
            source_name=data["source_name"],
            abi=data["abi"],
            bytecode=bytes.fromhex(data["bytecode"][2:]),
            runtime_bytecode=bytes.fromhex(data["runtime_bytecode"][2:]),
            runtime_code_hash_hex=data["runtime_code_hash"],
            compiler_version=data["compiler_version"],
            settings=data["settings"],
            immutable_references=data.get("immutable_references", {}),
        )


def find_project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` holding package.json and contracts/."""
    here = (start or Path(__file__).resolve().parent).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "package.json").is_file() and (candidate / CONTRACTS_DIR).is_dir():
            return candidate
    raise AnchoringError(
        f"no carbonledger project (package.json and contracts/) at or above {here}: "
        "run from the repository"
    )


def node_modules_dir(project_root: Path) -> Path:
    """node_modules with the npm solc package, or a one-line error saying how to get it."""
    node_modules = project_root / "node_modules"
    if not (node_modules / "solc" / "soljson.js").is_file():
        raise AnchoringError(
            f"the npm packages are not installed in {project_root}: run `npm ci` there "
            "(`make run` and `make test` do it for you)"
        )
    return node_modules


def node_executable(project_root: Path) -> str:
    """The pinned Node 22 from node_modules when present, else the system node."""
    pinned = project_root / "node_modules" / ".bin" / "node"
    if pinned.exists():
        return str(pinned)
    system = shutil.which("node")
    if system is None:
        raise AnchoringError("node is not installed: install Node.js 20 or newer, then `npm ci`")
    return system


def solc_frontend(*, project_root: Path, build_dir: Path) -> Path:
    """Write the executable that py-solc-x calls as ``solc`` and return its path.

    It lives in the build directory (never committed) because it names this
    checkout's absolute paths.
    """
    project_root = project_root.resolve()
    node_modules = node_modules_dir(project_root)
    script = Path(__file__).resolve().parent / "solc_frontend.cjs"
    wrapper = build_dir / "solc" / "solc"
    wrapper.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "#!/bin/sh\n"
        f'exec "{node_executable(project_root)}" "{script}" '
        f'--node-modules "{node_modules}" --project-root "{project_root}" "$@"\n'
    )
    if not wrapper.exists() or wrapper.read_text() != text:
        wrapper.write_text(text)
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return wrapper


def _project_sources(project_root: Path) -> dict[str, str]:
    sources: dict[str, str] = {}
    for path in sorted((project_root / CONTRACTS_DIR).glob("*.sol")):
        rel = path.relative_to(project_root).as_posix()
        sources[PROJECT_PREFIX + rel] = path.read_text(encoding="utf-8")
    if not sources:
        raise AnchoringError(f"no Solidity sources in {project_root / CONTRACTS_DIR}")
    return sources


def _remappings(sources: dict[str, str], node_modules: Path) -> list[str]:
    """Hardhat 3's context remappings for every npm package the project imports."""
    packages: set[str] = set()
    for text in sources.values():
        for target in _IMPORT_RE.findall(text):
            match = _NPM_IMPORT_RE.match(target)
            if match and not target.startswith((".", "/")):
                packages.add(match.group(1))
    remappings = []
    for package in sorted(packages):
        try:
            meta = json.loads((node_modules / package / "package.json").read_text())
        except FileNotFoundError as exc:
            raise AnchoringError(
                f"the contracts import {package}, which is not installed: run `npm ci`"
            ) from exc
        remappings.append(f"{PROJECT_PREFIX}:{package}/=npm/{package}@{meta['version']}/")
    return remappings


def standard_json_input(project_root: Path) -> dict[str, Any]:
    """The solc standard-JSON input both builds use (minus Hardhat's extra outputs)."""
    node_modules = node_modules_dir(project_root)
    sources = _project_sources(project_root)
    settings = json.loads((project_root / SETTINGS_FILE).read_text())["settings"]
    settings = dict(settings)
    settings["remappings"] = _remappings(sources, node_modules)
    settings["outputSelection"] = {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ]
        }
    }
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": settings,
    }


def _input_fingerprint(project_root: Path, solc_input: dict[str, Any]) -> str:
    node_modules = node_modules_dir(project_root)
    digest = hashlib.sha256()
    digest.update(json.dumps(solc_input, sort_keys=True).encode())
    solc_pkg = (node_modules / "solc" / "package.json").read_bytes()
    digest.update(solc_pkg)
    for remap in solc_input["settings"]["remappings"]:
        package = remap.split(":", 1)[1].split("/=", 1)[0]
        digest.update((node_modules / package / "package.json").read_bytes())
    digest.update((Path(__file__).resolve().parent / "solc_frontend.cjs").read_bytes())
    return digest.hexdigest()


def _describe_errors(errors: list[Any]) -> str:
    lines = []
    for error in errors:
        if error.get("severity") != "error":
            continue
        where = ""
        match = _LOCATION_RE.search(error.get("formattedMessage", ""))
        if match:
            source = match.group(1).removeprefix(PROJECT_PREFIX)
            where = f"{source}:{match.group(2)}:{match.group(3)}: "
        lines.append(f"{where}{error.get('type', 'Error')}: {error.get('message', '').strip()}")
    return "; ".join(lines) or "the compiler reported an error without a message"


def _compile(project_root: Path, build_dir: Path, solc_input: dict[str, Any]) -> dict[str, Any]:
    import solcx  # imported here: only compiling needs it
    from solcx.exceptions import SolcError

    binary = solc_frontend(project_root=project_root, build_dir=build_dir)
    try:
        output: dict[str, Any] = solcx.compile_standard(solc_input, solc_binary=binary)
    except SolcError as exc:
        raise AnchoringError(
            "Solidity compilation failed: " + _describe_errors(list(exc.error_dict or []))
        ) from exc
    except (OSError, ValueError) as exc:
        raise AnchoringError(f"the solc front-end could not run ({exc}): run `npm ci`") from exc
    return output


def source_units(*, project_root: Path, build_dir: Path | None = None) -> list[str]:
    """Every source unit name the compiler loads for the build, ours and the imported
    libraries', as the contracts' metadata (and so their code hashes) records them."""
    project_root = project_root.resolve()
    solc_input = standard_json_input(project_root)
    output = _compile(project_root, (build_dir or project_root / "build").resolve(), solc_input)
    return sorted(output.get("sources", {}))


def compile_contracts(
    *, project_root: Path, build_dir: Path | None = None
) -> dict[str, ContractArtifact]:
    """Compile contracts/*.sol, or reuse the cached artifacts if nothing changed."""
    project_root = project_root.resolve()
    build_dir = (build_dir or project_root / "build").resolve()
    out_dir = build_dir / "contracts"
    solc_input = standard_json_input(project_root)
    fingerprint = _input_fingerprint(project_root, solc_input)
    stamp = out_dir / "build.json"
    if stamp.is_file():
        try:
            cached = json.loads(stamp.read_text())
            if cached.get("fingerprint") == fingerprint:
                return {
                    name: ContractArtifact.from_json(
                        json.loads((out_dir / f"{name}.json").read_text())
                    )
                    for name in cached["contracts"]
                }
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt, never trusted

    output = _compile(project_root, build_dir, solc_input)
    import solcx

    version = str(
        solcx.wrapper.get_version_str_from_solc_binary(
            solc_frontend(project_root=project_root, build_dir=build_dir)
        )
    )
    settings = {k: v for k, v in solc_input["settings"].items() if k != "outputSelection"}
    artifacts: dict[str, ContractArtifact] = {}
    for source_name, contracts in output.get("contracts", {}).items():
        if source_name not in solc_input["sources"]:
            continue  # libraries pulled in by import are not ours to deploy
        for name, data in contracts.items():
            runtime = bytes.fromhex(data["evm"]["deployedBytecode"]["object"])
            if not runtime:
                continue  # interfaces and abstract contracts
            artifacts[name] = ContractArtifact(
                name=name,
                source_name=source_name.removeprefix(PROJECT_PREFIX),
                abi=data["abi"],
                bytecode=bytes.fromhex(data["evm"]["bytecode"]["object"]),
                runtime_bytecode=runtime,
                runtime_code_hash_hex="0x" + keccak(runtime).hex(),
                compiler_version=version,
                settings=settings,
                immutable_references=data["evm"]["deployedBytecode"].get("immutableReferences", {}),
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for artifact in artifacts.values():
        (out_dir / f"{artifact.name}.json").write_text(json.dumps(artifact.to_json(), indent=1))
    stamp.write_text(json.dumps({"fingerprint": fingerprint, "contracts": sorted(artifacts)}))
    return artifacts
