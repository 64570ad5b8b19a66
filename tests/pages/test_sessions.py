"""Signing in to the pages: the key goes in a form once, a signed HttpOnly SameSite=Strict
cookie names a session kept on the server, CSRF tokens guard the posts, and signing out, a
revoked key, a forged cookie or an expired session fall back to the public view."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from api.pages.session import SECRET_FILE, SessionSigner, load_or_create_secret
from ledger.examples import CC_ENTERPRISE_2025
from ledger.store.access import revoke_api_key
from tests.api.world import World
from tests.pages.conftest import browser, csrf_of, page_of


def _signed_in(client: TestClient) -> bool:
    return page_of(client.get("/")).by_id("signed-in") is not None


def _login(client: TestClient, token: str, **extra: str) -> object:
    form = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(form.text), "api_key": token, **extra})


def test_login_sets_a_strict_httponly_cookie_without_the_key(world: World) -> None:
    client = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    token = world.template.tokens["eu-regulator"]
    reply = _login(client, token)
    assert reply.status_code == 303 and reply.headers["location"] == "/"  # type: ignore[attr-defined]
    cookies = reply.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    session = next(c for c in cookies if c.startswith("cl_session="))
    attrs = {a.strip().lower() for a in session.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attrs
    secret = token.rsplit("_", 1)[1]
    assert secret not in session and token not in session
    assert _signed_in(client)


def test_wrong_key_is_refused_and_not_echoed(world: World) -> None:
    client = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    reply = _login(client, "clk_0123456789abcdef_not-a-real-secret")
    assert reply.status_code == 401  # type: ignore[attr-defined]
    page = page_of(reply)
    assert page.by_id("login-failed") is not None
    assert "not-a-real-secret" not in reply.text  # type: ignore[attr-defined]
    assert not _signed_in(client)


def test_login_without_csrf_token_or_from_another_origin_is_refused(world: World) -> None:
    client = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    token = world.template.tokens["eu-regulator"]
    reply = client.post("/login", data={"api_key": token})
    assert reply.status_code == 403 and "security token" in page_of(reply).text
    form = client.get("/login")
    reply = client.post(
        "/login",
        data={"csrf": csrf_of(form.text), "api_key": token},
        headers={"Origin": "https://attacker.example"},
    )
    assert reply.status_code == 403 and "another site" in page_of(reply).text
    # A token minted for another browser (its own cookie) does not pass either.
    other = TestClient(world.app, raise_server_exceptions=False)
    stolen = csrf_of(other.get("/login").text)
    reply = client.post("/login", data={"csrf": stolen, "api_key": token})
    assert reply.status_code == 403
    assert not _signed_in(client)


def test_login_redirects_only_within_the_site(world: World) -> None:
    client = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    token = world.template.tokens["eu-regulator"]
    for hostile in (
        "//attacker.example/x",
        "/\t/attacker.example",
        "https://attacker.example",
        "/\\attacker.example",
    ):
        reply = _login(client, token, next=hostile)
        assert reply.headers["location"] == "/"  # type: ignore[attr-defined]
    reply = _login(client, token, next="/trail?subject=88.118.8/ST-TK-0101")
    assert reply.headers["location"] == "/trail?subject=88.118.8/ST-TK-0101"  # type: ignore[attr-defined]


def test_logout_needs_the_token_and_ends_the_session(world: World) -> None:
    client = browser(world, "eu-regulator")
    assert client.post("/logout", data={}).status_code == 403
    assert _signed_in(client)
    token = csrf_of(client.get("/").text)
    reply = client.post("/logout", data={"csrf": token})
    assert reply.status_code == 303
    assert not _signed_in(client)
    assert "Public view" in page_of(client.get("/record", params={"id": CC_ENTERPRISE_2025})).text


def test_a_saved_cookie_is_worthless_after_signing_out(world: World) -> None:
    # The defect: after POST /logout a saved copy of the session cookie still signed in as
    # the regulator for up to 8 hours (the session lived in the cookie alone).
    client = browser(world, "eu-regulator")
    saved = client.cookies["cl_session"]
    reply = client.post("/logout", data={"csrf": csrf_of(client.get("/").text)})
    assert reply.status_code == 303
    replay = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    replay.cookies.set("cl_session", saved)
    assert not _signed_in(replay)
    record = page_of(replay.get("/record", params={"id": CC_ENTERPRISE_2025}))
    assert "Public view" in record.text
    events = world.http.get("/v1/audit", headers=world.headers("eu-regulator")).json()["items"]
    ended = [e for e in events if e["kind"] == "session_ended"]
    assert ended and ended[-1]["actor"] == "eu-regulator"


def test_revoking_the_key_through_the_api_ends_its_sessions(world: World) -> None:
    client = browser(world, "tuv-auditor")
    saved = client.cookies["cl_session"]
    key_id = world.template.tokens["tuv-auditor"].split("_")[1]
    reply = world.http.delete(f"/v1/keys/{key_id}", headers=world.headers("ops-admin"))
    assert reply.status_code == 204
    replay = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    replay.cookies.set("cl_session", saved)
    assert not _signed_in(replay)
    events = world.http.get("/v1/audit", headers=world.headers("eu-regulator")).json()["items"]
    revoked = [e for e in events if e["kind"] == "key_revoked"]
    assert revoked[-1]["key_id"] == key_id and revoked[-1]["actor"] == "ops-admin"
    assert revoked[-1]["target"] == "1 page sessions ended"


def test_revoking_the_key_ends_its_page_sessions(world: World) -> None:
    client = browser(world, "eu-regulator")
    key_id = world.template.tokens["eu-regulator"].split("_")[1]
    world.store.run(lambda s: revoke_api_key(s, key_id, at=world.clock()))
    reply = client.get("/record", params={"id": CC_ENTERPRISE_2025})
    assert "Public view" in page_of(reply).text
    assert any(c.startswith("cl_session=") for c in reply.headers.get_list("set-cookie"))


def test_expired_or_forged_sessions_fall_back_to_public(world: World) -> None:
    client = browser(world, "eu-regulator")
    world.clock.advance(8 * 3600 + 1)
    assert not _signed_in(client)
    client = browser(world, "eu-regulator")
    value = client.cookies["cl_session"]
    body, mac = value.split(".")
    client.cookies.set("cl_session", body + "." + ("A" if mac[0] != "A" else "B") + mac[1:])
    assert not _signed_in(client)


def test_signer_round_trip_and_purpose_separation() -> None:
    signer = SessionSigner(b"k" * 32)
    value = signer.session_value("a-random-session-token")
    assert signer.read_session(value) == "a-random-session-token"
    assert SessionSigner(b"j" * 32).read_session(value) is None
    csrf = signer.csrf_value()
    assert signer.csrf_matches(csrf, csrf) and not signer.csrf_matches(csrf, signer.csrf_value())
    # A CSRF token is not a session, nor the other way round (separate MAC keys).
    assert signer.read_session(csrf) is None and not signer.is_csrf_valid(value)


def test_server_secret_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path)
    mode = stat.S_IMODE(os.stat(tmp_path / SECRET_FILE).st_mode)
    assert mode == 0o600 and len(first) == 32
    assert load_or_create_secret(tmp_path) == first


def test_sign_in_link_returns_to_the_page_it_came_from(world: World) -> None:
    client = TestClient(world.app, raise_server_exceptions=False, follow_redirects=False)
    page = page_of(client.get("/record", params={"id": CC_ENTERPRISE_2025}))
    link = page.by_id("login-link")
    assert link is not None
    form = client.get(str(link["href"]))
    target = page_of(form).tags
    nxt = next(a["value"] for n, a in target if n == "input" and a.get("name") == "next")
    assert nxt == "/record?" + urlencode({"id": CC_ENTERPRISE_2025})
    reply = client.post(
        "/login",
        data={
            "csrf": csrf_of(form.text),
            "api_key": world.template.tokens["eu-regulator"],
            "next": str(nxt),
        },
    )
    assert reply.headers["location"] == nxt
