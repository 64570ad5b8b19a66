"""The import direction of the layers, stated once in :data:`RULES`: every arrow points down.

``ledger.core`` at the bottom (pure), the store above it and the ledger service above
that; ``anchoring`` and ``verifier`` side by side, never importing each other; ``api`` on
top, imported by nothing. Each rule is checked on the syntax tree of every module, so an
import inside a function, a ``TYPE_CHECKING`` block or an ``importlib.import_module("…")``
call counts as much as one at the top of the file. A second check imports every module in
a fresh interpreter (so nothing another test imported can hide a dependency) and refuses
import cycles between modules.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "anchoring", "api", "verifier")
OURS = PACKAGES
# Not importable on their own: run by their tools (Alembic's environment; ``python -m``
# runs a package's ``__main__``).
NOT_IMPORTABLE = ("ledger.store.migrations.env",)


@dataclass(frozen=True)
class Rule:
    """Modules under ``importers`` (minus ``exempt``) import nothing under ``forbidden``
    except what is under ``allowed``. Names match a module and everything below it."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()


RULES = (
    Rule(
        "core-imports-nothing-of-ours",
        importers=("ledger.core",),
        forbidden=OURS,
        allowed=("ledger.core",),
    ),
    Rule(
        "core-is-pure",  # no I/O frameworks, no chain, no web
        importers=("ledger.core",),
        forbidden=("fastapi", "starlette", "web3", "eth_account", "httpx", "requests", "solcx"),
    ),
    Rule(
        "store-imports-only-core",  # not the service, anchoring, api or verifier
        importers=("ledger.store",),
        forbidden=OURS,
        allowed=("ledger.core", "ledger.store"),
    ),
    Rule(
        "examples-import-only-core",
        importers=("ledger.examples",),
        forbidden=OURS,
        allowed=("ledger.core", "ledger.examples"),
    ),
    Rule(
        "client-imports-only-core",  # a producer installs it without the store or the service
        importers=("ledger.client",),
        forbidden=OURS,
        allowed=("ledger.core", "ledger.client"),
    ),
    Rule(
        "verifier-imports-only-core",
        importers=("verifier",),
        forbidden=OURS,
        allowed=("ledger.core", "verifier"),
    ),
    Rule("anchoring-not-verifier", importers=("anchoring",), forbidden=("verifier",)),
    Rule("verifier-not-anchoring", importers=("verifier",), forbidden=("anchoring",)),
    Rule("nothing-imports-api", importers=OURS, forbidden=("api",), exempt=("api",)),
    Rule(
        "only-the-store-speaks-sql",
        importers=OURS,
        forbidden=("sqlalchemy", "alembic", "ledger.store.models"),
        exempt=("ledger.store",),
    ),
)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _module_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
    return files


MODULES = _module_files()


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(tree: ast.AST, *, runtime_only: bool) -> Iterator[ast.AST]:
    """``ast.walk``, leaving out ``if TYPE_CHECKING:`` bodies when ``runtime_only``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if runtime_only and isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(module: str, path: Path, *, runtime_only: bool = False) -> Iterator[str]:
    """Every module ``module`` names in an import, at any depth of its syntax tree; for
    ``from X import Y``, ``X.Y`` when that is one of our modules. With ``runtime_only``,
    imports made for the type checker only are left out."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _walk(tree, runtime_only=runtime_only):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield target
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    yield f"{target}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


IMPORTS = {module: sorted(set(_imports(module, path))) for module, path in MODULES.items()}


def _violations(rule: Rule, module: str) -> list[str]:
    if not _under(module, rule.importers) or _under(module, rule.exempt):
        return []
    return [
        name
        for name in IMPORTS[module]
        if _under(name, rule.forbidden) and not _under(name, rule.allowed)
    ]


def test_the_table_names_real_modules() -> None:
    for rule in RULES:
        for prefix in rule.importers + rule.allowed + rule.exempt:
            assert any(_under(m, (prefix,)) for m in MODULES), (rule.name, prefix)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_layer_rule(rule: Rule) -> None:
    broken = {module: bad for module in MODULES if (bad := _violations(rule, module))}
    assert broken == {}


def test_importing_the_core_loads_nothing_impure() -> None:
    """What the core's imports load in turn, checked in a fresh interpreter."""
    core = [m for m in MODULES if _under(m, ("ledger.core",))]
    code = (
        "import importlib, json, sys\n"
        f"for name in {core!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(out.stdout)
    impure = ("sqlalchemy", "alembic", "fastapi", "starlette", "web3", "httpx", "solcx")
    assert [m for m in loaded if _under(m, impure + OURS) and not _under(m, ("ledger.core",))] == [
        "ledger"
    ]


def test_a_rule_catches_an_import_inside_a_function(tmp_path: Path) -> None:
    path = tmp_path / "late.py"
    path.write_text("def f():\n    from sqlalchemy import select\n    return select\n")
    assert "sqlalchemy" in set(_imports("ledger.service.late", path))


# Recorded in a fresh interpreter: every import statement executed while the modules load
# (importer, imported, and the names of a ``from`` import that are modules themselves).
_RECORDER = """
import builtins, importlib, importlib.util, json, sys
edges = set()
real_import = builtins.__import__

def record(name, globals=None, locals=None, fromlist=(), level=0):
    module = real_import(name, globals, locals, fromlist, level)
    importer = (globals or {}).get("__name__")
    if importer:
        target = name
        if level:
            target = importlib.util.resolve_name("." * level + name, globals["__package__"])
        edges.add((importer, target))
        for item in fromlist or ():
            if f"{target}.{item}" in sys.modules:
                edges.add((importer, f"{target}.{item}"))
    return module

builtins.__import__ = record
for name in MODULES:
    importlib.import_module(name)
builtins.__import__ = real_import
print(json.dumps(sorted(edges)))
"""


def _runtime_edges(modules: list[str]) -> set[tuple[str, str]]:
    code = f"MODULES = {modules!r}\n" + _RECORDER
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return {(a, b) for a, b in json.loads(out.stdout)}


def _depends_on(importer: str, imported: str) -> set[str]:
    """Our modules that importing ``imported`` from ``importer`` runs: the module and each
    package above it that does not also hold ``importer`` (those already run)."""
    parts = imported.split(".")
    names = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {n for n in names if n in MODULES and n != importer and not _under(importer, (n,))}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _graph(pairs: set[tuple[str, str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer, imported in pairs:
        if importer in MODULES:
            graph[importer] |= _depends_on(importer, imported)
    return graph


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {m: set() for m in MODULES}
    graph["ledger.core.calc.lines"].add("ledger.core.calc.substitution")
    graph["ledger.core.calc.substitution"].add("ledger.core.calc.lines")
    assert ["ledger.core.calc.lines", "ledger.core.calc.substitution"] in _cycles(graph)


def test_no_import_cycles() -> None:
    importable = [m for m in MODULES if m not in NOT_IMPORTABLE and not m.endswith(".__main__")]
    loaded = _runtime_edges(importable)
    written = {
        (module, name)
        for module, path in MODULES.items()
        for name in _imports(module, path, runtime_only=True)
    }
    assert _cycles(_graph(loaded | written)) == []
