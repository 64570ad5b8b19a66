"""Schemathesis against the app in-process (ASGI, no network): over at least 200 generated
examples per operation, no 5xx, no response outside the published schema, no status,
content type or header the document does not declare (docs/API.md §8).

Each operation is called as the role the matrix allows to use it (tests/api/test_matrix.py),
so generated requests reach the service code rather than stopping at 401/403.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.app import create_app
from ledger.store import Store, sqlite_url
from tests.api.test_matrix import EXPECTED, ROLES
from tests.api.world import World, settings_for

EXAMPLES = 200
CALLS: Counter[str] = Counter()

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


def _role_for(operation_id: str) -> str | None:
    allowed = [r for r, s in EXPECTED[operation_id].items() if 200 <= s < 300]
    for preferred in ("regulator", "owner", "auditor", "admin", "anonymous"):
        if preferred in allowed:
            return ROLES[preferred]
    return None


class _Proxy:
    """The ASGI app schemathesis calls: forwards to the current test's app."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


def _published_document() -> dict[str, Any]:
    # The document does not depend on the data: read it from an app over an empty store.
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(sqlite_url(tmp))
        try:
            app = create_app(settings_for(Path(tmp)), store=store)
            return app.openapi()
        finally:
            store.close()


PROXY = _Proxy()
schema = schemathesis.openapi.from_dict(_published_document())
schema.app = PROXY


@pytest.fixture
def proxied(world: World) -> World:
    PROXY.target = world.app
    return world


@pytest.mark.timeout(900)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx_and_no_schema_violation(case: Any, proxied: World) -> None:
    operation_id = case.operation.definition.raw["operationId"]
    CALLS[operation_id] += 1
    case.call_and_validate(headers=proxied.headers(_role_for(operation_id)), checks=CHECKS)


def test_every_operation_got_its_examples() -> None:
    # Runs after the schemathesis test in this module (pytest keeps definition order).
    if not CALLS:
        pytest.skip("the schemathesis test was not run in this session")
    assert set(CALLS) == set(EXPECTED)
    # An operation without parameters or body has only a handful of distinct requests
    # (with or without the optional key); Hypothesis stops once it has tried them all.
    document = _published_document()
    with_inputs = {
        op["operationId"]
        for ops in document["paths"].values()
        for op in ops.values()
        if op.get("parameters") or op.get("requestBody")
    }
    assert len(with_inputs) >= 15
    short = {op: n for op, n in CALLS.items() if op in with_inputs and n < EXAMPLES}
    assert short == {}, CALLS
