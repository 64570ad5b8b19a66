"""Write the contracts' storage layouts into the verifier package
(verifier/abi/NAME.layout.json), from the compiler's own ``storageLayout`` output.

The verifier proves what a registry stores with ``eth_getProof``, which speaks in storage
slots; which slot holds which field is the compiler's decision, so it is taken from the
compiler, never counted by hand. Each layout names the runtime code hash of the build it
came from: the verifier reads slots only of a contract whose proven code is that build.
Run after any change to contracts/*.sol (tests/verifier/test_layout.py proves the package
copies equal a fresh compile):

    .venv/bin/python scripts/export_storage_layout.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LAYOUT_FORMAT = "carbonledger-storage-layout/1"
CONTRACTS = ("AnchorRegistry", "TrustRegistry")


def layout_documents(project_root: Path) -> dict[str, bytes]:
    """File name -> bytes of each layout document, from a compile of ``project_root``."""
    import solcx

    from anchoring.toolchain import (
        PROJECT_PREFIX,
        compile_contracts,
        solc_frontend,
        standard_json_input,
    )

    artifacts = compile_contracts(project_root=project_root)
    solc_input = standard_json_input(project_root)
    # storageLayout is an analysis output: asking for it alone changes no bytecode.
    solc_input["settings"]["outputSelection"] = {"*": {"*": ["storageLayout"]}}
    binary = solc_frontend(project_root=project_root, build_dir=project_root / "build")
    output: dict[str, Any] = solcx.compile_standard(solc_input, solc_binary=binary)
    out: dict[str, bytes] = {}
    for name in CONTRACTS:
        source = PROJECT_PREFIX + artifacts[name].source_name
        layout = output["contracts"][source][name]["storageLayout"]
        doc = {
            "format": LAYOUT_FORMAT,
            "name": name,
            "compiler_version": artifacts[name].compiler_version,
            "runtime_code_hash": artifacts[name].runtime_code_hash_hex,
            "storage": [
                {k: entry[k] for k in ("label", "slot", "offset", "type")}
                for entry in layout["storage"]
            ],
            "types": {
                type_id: {k: v for k, v in spec.items() if k != "members"}
                | (
                    {
                        "members": [
                            {k: m[k] for k in ("label", "slot", "offset", "type")}
                            for m in spec["members"]
                        ]
                    }
                    if "members" in spec
                    else {}
                )
                for type_id, spec in (layout.get("types") or {}).items()
            },
        }
        out[f"{name}.layout.json"] = (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-root", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="only compare, exit 1 on a difference")
    args = parser.parse_args(argv)
    target = args.project_root / "verifier" / "abi"
    stale = []
    for name, data in layout_documents(args.project_root).items():
        path = target / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.write_bytes(data)
        print(f"wrote {path.relative_to(args.project_root)}")
    if stale:
        print(f"stale: {', '.join(stale)}: run scripts/export_storage_layout.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
