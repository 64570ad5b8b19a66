"""``python -m tests.fuzz.run_atheris TARGET [libFuzzer options] [CORPUS_DIR ...]``.

Runs one target of ``tests.fuzz.targets`` under atheris (libFuzzer, coverage-guided over
the instrumented ``ledger`` and ``api`` packages). libFuzzer writes the inputs it finds
interesting into the first corpus directory and a crashing input into
``-artifact_prefix``; ``scripts/fuzz`` chooses both.
"""

from __future__ import annotations

import sys

import atheris


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m tests.fuzz.run_atheris TARGET [libFuzzer args]")
    name = sys.argv.pop(1)
    with atheris.instrument_imports(include=["ledger", "api"]):
        from tests.fuzz.targets import TARGETS

        if name not in TARGETS:
            raise SystemExit(f"unknown target {name!r}; known: {', '.join(TARGETS)}")
        target = TARGETS[name]()
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
