"""Maps the verifier's sources into the carbon-verify wheel from where they live in the
repository: ``verifier/`` and ``ledger/core/`` (``ledger`` is a namespace package, so the
wheel ships no ``ledger/__init__.py`` and the server distribution can ship the rest of it),
and the report's JSON Schema from ``docs/`` as ``verifier/verify-report.schema.json``.

Only for standard wheels: hatchling applies forced inclusions to editable wheels too, and
copies in site-packages would shadow the sources that the editable install points at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = {
    "verifier": "verifier",
    "ledger/core": "ledger/core",
    # The JSON Schema of the report, published in docs/, shipped beside the verifier.
    "docs/verify-report.schema.json": "verifier/verify-report.schema.json",
}


class SourcesHook(BuildHookInterface):  # type: ignore[misc]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "standard":
            return
        repo = Path(self.root).resolve().parents[1]
        for source, target in SHIPPED.items():
            build_data["force_include"][str(repo / source)] = target
