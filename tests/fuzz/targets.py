"""Fuzz targets: each takes raw bytes and may only refuse them the documented way.

- ``canonical``: ``parse_json`` refuses with ``MalformedError`` or returns a value whose
  RFC 8785 form parses back to the same value and is its own canonical form;
- ``bundle``: ``parse_bundle`` refuses with ``MalformedError`` or returns a bundle whose
  serialization is a canonical bundle again;
- ``routes``: the first byte picks a JSON operation of the API, the rest is its body, sent
  by a principal allowed to call it; the answer is never a 5xx, and every refusal is
  ``application/problem+json``.

Anything else (another exception, a crash, a hang) is a finding. The same targets run under
Hypothesis in every test run (tests/fuzz/test_fuzz.py) and under atheris, coverage-guided,
for a bounded time (``scripts/fuzz``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ledger.core.bundle import parse_bundle, serialize_bundle
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.errors import MalformedError

__all__ = ["ROUTES", "TARGETS", "RouteTarget", "fuzz_bundle", "fuzz_canonical"]


def fuzz_canonical(data: bytes) -> None:
    try:
        value = parse_json(data)
    except MalformedError:
        return
    canonical = canonicalize(value)
    if parse_json(canonical) != value:
        raise AssertionError(f"canonical form parses to another value: {canonical[:200]!r}")
    if canonicalize(parse_json(canonical)) != canonical:
        raise AssertionError("the canonical form is not its own canonical form")


def fuzz_bundle(data: bytes) -> None:
    try:
        bundle = parse_bundle(data)
    except MalformedError:
        return
    again = serialize_bundle(bundle)
    if serialize_bundle(parse_bundle(again, require_canonical=True)) != again:
        raise AssertionError("a parsed bundle does not serialize to a canonical bundle")


#: (method, path, principal) of the operations that read a JSON body; the first byte of
#: an input picks one (modulo their number).
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/v1/records", "fuzz-producer"),
    ("POST", "/v1/records/bulk", "fuzz-producer"),
    ("POST", "/v1/attestations", "fuzz-auditor"),
    ("POST", "/v1/revocations", "fuzz-regulator"),
    ("POST", "/v1/principals", "fuzz-admin"),
    ("POST", "/v1/principals/fuzz-producer/keys", "fuzz-admin"),
)
_PRINCIPALS = {
    "fuzz-producer": "producer",
    "fuzz-auditor": "auditor",
    "fuzz-regulator": "regulator",
    "fuzz-admin": "admin",
}
PRODUCER = "urn:carbonledger:producer:fuzz"


class RouteTarget:
    """The app over a fresh SQLite store in a temporary directory, with one principal per
    role; ``close()`` removes it."""

    def __init__(self) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app
        from api.settings import CarbonLedgerSettings
        from ledger.core.records import RECORD_TYPES
        from ledger.core.signature import private_key_from_seed
        from ledger.service import LedgerService
        from ledger.store import Store, sqlite_url
        from ledger.store import access as access_store

        self._tmp = tempfile.TemporaryDirectory(prefix="carbonledger-fuzz-")
        data_dir = Path(self._tmp.name)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        self.store = Store.open(sqlite_url(data_dir))
        self.tokens: dict[str, str] = {}
        with self.store.transaction() as session:
            for name, role in _PRINCIPALS.items():
                access_store.add_principal(
                    session,
                    name,
                    role=role,
                    producer=PRODUCER if role == "producer" else None,
                    record_types=list(RECORD_TYPES) if role == "producer" else [],
                    grants=["*"] if role == "auditor" else [],
                    created_at=now,
                )
                self.tokens[name] = access_store.issue_api_key(session, name, created_at=now).token
        ledger = LedgerService(
            store=self.store,
            service_key=private_key_from_seed(b"\x01" * 32),
            clock=lambda: now,
            max_merge_delay_s=600,
        )
        settings = CarbonLedgerSettings(data_dir=data_dir, chain="memory")
        app = create_app(settings, store=self.store, ledger=ledger, clock=lambda: now)
        self.http = TestClient(app, raise_server_exceptions=True)
        self._count = 0

    def __call__(self, data: bytes) -> None:
        if not data:
            return
        method, path, principal = ROUTES[data[0] % len(ROUTES)]
        self._count += 1
        headers = {
            "Authorization": f"Bearer {self.tokens[principal]}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"fuzz-{self._count}",
        }
        response = self.http.request(method, path, content=data[1:], headers=headers)
        if response.status_code >= 500:
            raise AssertionError(
                f"{method} {path} answered {response.status_code}: {response.text}"
            )
        if response.status_code >= 400:
            content_type = response.headers.get("content-type")
            if content_type != "application/problem+json":
                raise AssertionError(f"{method} {path}: a refusal as {content_type}")

    def close(self) -> None:
        self.http.close()
        self.store.close()
        self._tmp.cleanup()


def _plain(target: Callable[[bytes], None]) -> Callable[[], Callable[[bytes], None]]:
    return lambda: target


#: target name -> a factory of the function of the raw input (the corpus lives in
#: corpus/<name>/). The routes target builds an app first, so it is made once per run.
TARGETS: dict[str, Callable[[], Callable[[bytes], None]]] = {
    "canonical": _plain(fuzz_canonical),
    "bundle": _plain(fuzz_bundle),
    "routes": RouteTarget,
}
