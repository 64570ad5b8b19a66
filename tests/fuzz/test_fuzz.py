"""The fuzz targets of tests/fuzz/targets.py in every test run, for a bounded time.

Three layers: the kept corpus (tests/fuzz/corpus/<target>/, seeds and every input a
longer ``scripts/fuzz --keep`` run found worth keeping) replayed in full; Hypothesis over
raw bytes and over mutations of the corpus (byte flips, insertions, deletions, repeated
spans, splices of two seeds); and atheris, coverage-guided, for a few seconds per target
in its own process (a crash cannot take pytest down), seeded with the same corpus.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chainfixtures import REPO_ROOT
from tests.fuzz.targets import TARGETS, RouteTarget

CORPUS = Path(__file__).resolve().parent / "corpus"
#: Seconds of atheris per target in CI (scripts/fuzz runs longer ones).
ATHERIS_SECONDS = 8


@cache
def seeds(name: str) -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted((CORPUS / name).iterdir()) if p.is_file())


@st.composite
def mutated(draw: st.DrawFn, name: str) -> bytes:
    """A corpus input changed by a few random edits."""
    pool = seeds(name)
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(("flip", "insert", "delete", "repeat", "splice")))
        at = draw(st.integers(0, len(data)))
        if edit == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            data[at : at + draw(st.integers(1, 16))] = b""
        elif edit == "repeat":
            span = data[at : at + draw(st.integers(1, 32))]
            data[at:at] = span * draw(st.integers(1, 50))
        else:
            other = draw(st.sampled_from(pool))
            data[at:] = other[draw(st.integers(0, len(other))) :]
    return bytes(data)


def inputs(name: str) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=2048), mutated(name))


@pytest.fixture(scope="module")
def routes() -> Iterator[RouteTarget]:
    target = RouteTarget()
    try:
        yield target
    finally:
        target.close()


def _target(name: str, routes: RouteTarget) -> Callable[[bytes], None]:
    return routes if name == "routes" else TARGETS[name]()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_kept_corpus_passes(name: str, routes: RouteTarget) -> None:
    target = _target(name, routes)
    assert seeds(name), f"the corpus of {name} is empty"
    for data in seeds(name):
        target(data)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


@fuzz(600)
@given(data=inputs("canonical"))
def test_canonical_form_survives_any_bytes(data: bytes) -> None:
    TARGETS["canonical"]()(data)


@fuzz(300)
@given(data=inputs("bundle"))
def test_bundle_reader_survives_any_bytes(data: bytes) -> None:
    TARGETS["bundle"]()(data)


@fuzz(300)
@given(data=inputs("routes"))
def test_every_route_survives_any_body(data: bytes, routes: RouteTarget) -> None:
    routes(data)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_atheris_finds_nothing_in_a_bounded_run(name: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    found = tmp_path / "found"
    found.mkdir()
    command = [
        sys.executable, "-m", "tests.fuzz.run_atheris", name,
        f"-max_total_time={ATHERIS_SECONDS}", "-rss_limit_mb=2048", "-timeout=20",
        f"-artifact_prefix={tmp_path}/", str(found), str(CORPUS / name),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    artifacts = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert result.returncode == 0 and not artifacts, (
        f"atheris found an input that breaks {name}: {artifacts}\n{result.stderr[-3000:]}"
    )
    assert "Done" in result.stderr, result.stderr[-2000:]
