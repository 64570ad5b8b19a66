"""Write the contracts' ABIs into the verifier package (verifier/abi/*.json).

The verifier reads the chain with these ABIs and never needs a compiler. Run after any
change to contracts/*.sol; tests/verifier/test_abi.py proves the package copies equal a
fresh compile:

    .venv/bin/python scripts/export_abis.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ABI_FORMAT = "carbonledger-abi/1"
CONTRACTS = ("AnchorRegistry", "TrustRegistry")


def abi_documents(project_root: Path) -> dict[str, bytes]:
    """File name -> bytes of each ABI document, from a compile of ``project_root``."""
    from anchoring.toolchain import compile_contracts

    artifacts = compile_contracts(project_root=project_root)
    out: dict[str, bytes] = {}
    for name in CONTRACTS:
        art = artifacts[name]
        doc = {
            "format": ABI_FORMAT,
            "name": name,
            "compiler_version": art.compiler_version,
            "runtime_code_hash": art.runtime_code_hash_hex,
            "abi": art.abi,
        }
        out[f"{name}.json"] = (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-root", type=Path, default=ROOT)
    parser.add_argument("--check", action="store_true", help="only compare, exit 1 on a difference")
    args = parser.parse_args(argv)
    target = args.project_root / "verifier" / "abi"
    stale = []
    for name, data in abi_documents(args.project_root).items():
        path = target / name
        if args.check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.write_bytes(data)
        print(f"wrote {path.relative_to(args.project_root)}")
    if stale:
        print(f"stale: {', '.join(stale)}: run scripts/export_abis.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
