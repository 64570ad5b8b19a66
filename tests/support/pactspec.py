"""The official PACT v3 files, found on this machine, and validation against their schemas.

The files are not part of this repository (their licence does not allow copying them in).
``CARBONLEDGER_PACT_SPEC_DIR`` names a directory holding ``openapi.yaml``, ``examples/``
and ``conformance/``; when it is unset, :func:`find_spec_dir` looks for a directory named
``pact-v3`` with an ``openapi.yaml`` among the subdirectories of the checkout's parent
directory, at most three levels down. Tests that need the files skip, saying what to set,
when neither finds them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["ENV", "PactSpec", "find_spec_dir", "load_spec"]

ENV = "CARBONLEDGER_PACT_SPEC_DIR"
CHECKOUT = Path(__file__).resolve().parents[2]
_URI = "urn:pact:v3:openapi"
MAX_DEPTH = 3


def find_spec_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The PACT v3 directory: ``$CARBONLEDGER_PACT_SPEC_DIR``, else a ``pact-v3``
    directory with an ``openapi.yaml`` under the checkout's parent (depth <= 3)."""
    env = os.environ if environ is None else environ
    named = env.get(ENV)
    if named:
        path = Path(named)
        return path if (path / "openapi.yaml").is_file() else None
    frontier = [CHECKOUT.parent]
    for _ in range(MAX_DEPTH):
        found: list[Path] = []
        for directory in frontier:
            try:
                children = sorted(p for p in directory.iterdir() if p.is_dir())
            except OSError:
                continue
            for child in children:
                if child.resolve() == CHECKOUT or child.name.startswith("."):
                    continue
                if child.name == "pact-v3" and (child / "openapi.yaml").is_file():
                    return child
                found.append(child)
        frontier = found
    return None


@dataclass(frozen=True)
class PactSpec:
    directory: Path
    document: Mapping[str, Any]
    registry: Registry

    def validator(self, component: str) -> Draft202012Validator:
        """A validator for ``#/components/schemas/<component>`` of the OpenAPI document
        (OpenAPI 3.1 schemas are JSON Schema 2020-12), asserting formats it can check."""
        return Draft202012Validator(
            {"$ref": f"{_URI}#/components/schemas/{component}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def check(self, component: str, instance: Any) -> None:
        """Raises ``AssertionError`` listing every violation of the schema."""
        errors = sorted(self.validator(component).iter_errors(instance), key=_where)
        if errors:
            raise AssertionError(
                f"not a valid PACT {component}:\n"
                + "\n".join(f"  {_where(e)}: {e.message[:300]}" for e in errors[:20])
            )

    def example(self, name: str) -> Any:
        import json

        return json.loads((self.directory / "examples" / name).read_text(encoding="utf-8"))

    def conformance_text(self) -> str:
        path = self.directory / "conformance" / "v3-test-cases-expected-results.md"
        return path.read_text(encoding="utf-8")


def _where(error: ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def load_spec(directory: Path) -> PactSpec:
    document = yaml.safe_load((directory / "openapi.yaml").read_text(encoding="utf-8"))
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return PactSpec(directory, document, Registry().with_resource(_URI, resource))


Check = Callable[[str, Any], None]
