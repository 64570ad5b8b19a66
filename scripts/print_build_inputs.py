"""Print what reproduces the registries' runtime code hashes (docs/CONTRACTS.md §1): the
compiler version, the settings with the remappings, every source unit name the compiler
loads (the metadata hash embedded in the code commits to them, so another name for the
same file gives another code hash), and the code hash of each contract built from them.

    .venv/bin/python scripts/print_build_inputs.py

stdout is one JSON document; exit 0, or 1 when the build fails (the reason on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from anchoring.toolchain import compile_contracts, source_units, standard_json_input  # noqa: E402
from ledger.core.errors import AnchoringError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    try:
        artifacts = compile_contracts(project_root=ROOT)
        settings = dict(standard_json_input(ROOT)["settings"])
        settings.pop("outputSelection", None)
        units = source_units(project_root=ROOT)
    except AnchoringError as exc:
        print(exc, file=sys.stderr)
        return 1
    first = next(iter(artifacts.values()))
    doc = {
        "compiler": first.compiler_version,
        "settings": settings,
        "source_units": units,
        "contracts": {
            name: {"source_unit": "project/" + a.source_name, "code_hash": a.runtime_code_hash_hex}
            for name, a in sorted(artifacts.items())
            if name in ("AnchorRegistry", "TrustRegistry")
        },
    }
    sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
