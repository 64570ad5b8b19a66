"""Failed-login throttling of the login form (docs/PAGES.md §2.1): per client address and
per key id, 429 with Retry-After as the short HTML error page, time from the injected
clock, memory bounded by an LRU."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.pages.throttle import LoginThrottle, ThrottleConfig, TooManyAttemptsError
from ledger.core.errors import MalformedError
from tests.api.world import World
from tests.pages.conftest import csrf_of, page_of
from tests.support.apiserver import served

WRONG = "clk_0123456789abcdef_not-a-real-secret"


def _client(world: World, address: str) -> TestClient:
    return TestClient(
        world.app,
        raise_server_exceptions=False,
        follow_redirects=False,
        client=(address, 50000),
    )


def _login(client: TestClient, token: str) -> object:
    form = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(form.text), "api_key": token})


def _wrong_key(n: int) -> str:
    """A well-formed key with a key id of its own, so only the address limit applies."""
    return f"clk_{n:016x}_not-a-real-secret"


def test_sixth_failure_from_one_address_gets_429_until_the_window_passes(world: World) -> None:
    client = _client(world, "203.0.113.7")
    for n in range(5):
        assert _login(client, _wrong_key(n)).status_code == 401  # type: ignore[attr-defined]
    world.clock.advance(60)
    blocked = _login(client, world.template.tokens["eu-regulator"])
    assert blocked.status_code == 429  # type: ignore[attr-defined]
    # The oldest failure ages out 300 s after it happened: 240 s from now.
    assert blocked.headers["retry-after"] == "240"  # type: ignore[attr-defined]
    page = page_of(blocked)
    assert "429" in page.text and "Too many attempts" in page.text
    assert "Traceback" not in blocked.text  # type: ignore[attr-defined]
    assert "cl_session=" not in blocked.headers.get("set-cookie", "")  # type: ignore[attr-defined]
    world.clock.advance(239)
    assert _login(client, _wrong_key(99)).status_code == 429  # type: ignore[attr-defined]
    world.clock.advance(1)
    # The window has passed for the oldest failure: a right key signs in again.
    reply = _login(client, world.template.tokens["eu-regulator"])
    assert reply.status_code == 303  # type: ignore[attr-defined]


def test_a_blocked_address_does_not_block_another(world: World) -> None:
    noisy, quiet = _client(world, "203.0.113.7"), _client(world, "198.51.100.2")
    for n in range(5):
        _login(noisy, _wrong_key(n))
    assert _login(noisy, _wrong_key(5)).status_code == 429  # type: ignore[attr-defined]
    assert _login(quiet, _wrong_key(6)).status_code == 401  # type: ignore[attr-defined]
    reply = _login(quiet, world.template.tokens["eu-regulator"])
    assert reply.status_code == 303  # type: ignore[attr-defined]
    # Another address signing in resets nothing for the noisy one.
    assert _login(noisy, _wrong_key(7)).status_code == 429  # type: ignore[attr-defined]


def test_a_success_does_not_reset_the_count(world: World) -> None:
    client = _client(world, "203.0.113.9")
    for n in range(4):
        _login(client, _wrong_key(n))
    assert _login(client, world.template.tokens["eu-regulator"]).status_code == 303  # type: ignore[attr-defined]
    assert _login(client, _wrong_key(4)).status_code == 401  # type: ignore[attr-defined]
    assert _login(client, _wrong_key(5)).status_code == 429  # type: ignore[attr-defined]


def test_one_key_id_guessed_from_many_addresses_is_blocked(world: World) -> None:
    for n in range(10):
        reply = _login(_client(world, f"192.0.2.{n}"), WRONG)
        assert reply.status_code == 401  # type: ignore[attr-defined]
    reply = _login(_client(world, "192.0.2.200"), WRONG)
    assert reply.status_code == 429  # type: ignore[attr-defined]
    assert int(reply.headers["retry-after"]) == 300  # type: ignore[attr-defined]
    # Other keys from a fresh address are unaffected.
    fresh = _client(world, "192.0.2.201")
    assert _login(fresh, world.template.tokens["eu-regulator"]).status_code == 303  # type: ignore[attr-defined]


def test_memory_stays_bounded_by_the_lru() -> None:
    throttle = LoginThrottle(ThrottleConfig(max_tracked=100))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(1000):
        throttle.failed(address=f"10.0.{n // 256}.{n % 256}", key_id=f"{n:016x}", now=now)
    assert throttle.tracked() == (100, 100)
    # The most recent entries are the ones kept.
    for _ in range(4):
        throttle.failed(address="10.0.3.231", key_id=None, now=now)
    with pytest.raises(TooManyAttemptsError) as caught:
        throttle.check(address="10.0.3.231", key_id=None, now=now)
    assert caught.value.retry_after_s == 300
    throttle.check(address="10.0.0.0", key_id=None, now=now)  # forgotten, not blocked


def test_expired_failures_are_forgotten() -> None:
    throttle = LoginThrottle(ThrottleConfig(max_failures_per_address=2, window_s=10))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    throttle.failed(address="a", key_id="k", now=t0)
    throttle.failed(address="a", key_id="k", now=t0)
    with pytest.raises(TooManyAttemptsError):
        throttle.check(address="a", key_id=None, now=t0)
    throttle.check(address="a", key_id=None, now=t0.replace(second=10))
    assert throttle.tracked() == (0, 1)


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(MalformedError):
        LoginThrottle(ThrottleConfig(window_s=0))


def _http_login(http: httpx.Client, token: str, forwarded_for: str) -> httpx.Response:
    form = http.get("/login")
    return http.post(
        "/login",
        data={"csrf": csrf_of(form.text), "api_key": token},
        headers={"X-Forwarded-For": forwarded_for},
    )


@pytest.mark.slow
def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    # The defect: uvicorn believed X-Forwarded-For from 127.0.0.1 by default, so a local
    # client naming a new address in every attempt was never throttled. Through a real
    # `carbonledger serve` process: without trusted proxies the peer is the client.
    with served(tmp_path / "data") as api, httpx.Client(base_url=api.url, timeout=30) as http:
        codes = [_http_login(http, _wrong_key(n), f"198.51.100.{n}").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]


@pytest.mark.slow
def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    env = {"CARBONLEDGER_TRUSTED_PROXIES": "127.0.0.1"}
    with (
        served(tmp_path / "data", env=env) as api,
        httpx.Client(base_url=api.url, timeout=30) as http,
    ):
        # Each client behind the proxy has its own count...
        spread = [_http_login(http, _wrong_key(n), f"198.51.100.{n}").status_code for n in range(6)]
        # ...and one client is throttled however the proxy chain before it is spelled; an
        # address a client wrote in front of its own is not believed.
        one = [
            _http_login(http, _wrong_key(10 + n), f"10.9.9.{n}, 203.0.113.9").status_code
            for n in range(6)
        ]
    assert spread == [401] * 6
    assert one == [401] * 5 + [429]
