"""``carbonledger up --serve`` (the ``Runner``, in-process on a memory chain) serves HTTPS
when a certificate is set, offers PACT tokens over it, and runs the events worker: a
delivery queued in the store reaches a receiver over TLS without anyone stepping it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli.runner import Runner, RunnerOptions
from api.settings import CarbonLedgerSettings
from ledger.store import Store, sqlite_url
from ledger.store.access import add_principal, issue_api_key
from ledger.store.webhooks import add_subscription, enqueue_delivery
from tests.support.tlsserver import BuyerSystem, TlsAuthority, serve

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_up_serves_https_and_runs_the_events_worker(
    tmp_path: Path, tls: TlsAuthority, artifacts: Any
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = Store.open(sqlite_url(data))
    with store.transaction() as session:
        add_principal(session, "buyer", role="auditor", grants=["*"], created_at=NOW)
        key = issue_api_key(session, "buyer", created_at=NOW).token
    store.close()
    settings = CarbonLedgerSettings(
        data_dir=data,
        chain="memory",
        tls_cert_file=tls.pem,
        tls_key_file=tls.pem,
        outbound_ca_file=tls.ca_pem,
        pact_company_name="Example Co.",
        pact_company_ids="urn:carbonledger:enterprise:example",
    )
    buyer = BuyerSystem()
    with serve(buyer.app, tls=tls) as buyer_url:
        runner = Runner(
            settings,
            RunnerOptions(api_port=0, exchange_interval_s=0.05),
            anvil_path=tmp_path / "no-anvil",
            artifacts=artifacts,
        )
        state = runner.start()
        try:
            assert state.api_url.startswith("https://127.0.0.1:")
            with httpx.Client(verify=tls.client_context()) as http:
                r = http.post(
                    f"{state.api_url}/auth/token",
                    data={"grant_type": "client_credentials"},
                    auth=("buyer", key),
                )
                assert r.status_code == 200, r.text
                listed = http.get(
                    f"{state.api_url}/3/footprints",
                    headers={"authorization": f"Bearer {r.json()['access_token']}"},
                )
                assert listed.json() == {"data": []}
            queued = Store.open(sqlite_url(data))
            with queued.transaction() as session:
                sub = add_subscription(
                    session,
                    principal="buyer",
                    kind="webhook",
                    url=f"{buyer_url}/hook",
                    events=["record.anchored"],
                    created_at=NOW,
                )
                enqueue_delivery(
                    session,
                    subscription_id=sub.id,
                    message_id="msg_runner",
                    content_type="application/json",
                    body=b'{"format":"carbonledger-event/1"}',
                    now=NOW,
                )
            queued.close()
            deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
            while not buyer.received and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [r.headers["webhook-id"] for r in buyer.received] == ["msg_runner"]
        finally:
            runner.stop()


def test_up_trusts_the_certificate_it_serves(tmp_path: Path, tls: TlsAuthority) -> None:
    """``up --demo`` calls its own API with ``client_tls_context(trust_served=True)``: the
    certificate it serves verifies though no CA the system knows issued it (as a
    self-signed one), without ``SSL_CERT_FILE``; ``CARBONLEDGER_OUTBOUND_CA_FILE`` works too."""
    from fastapi import FastAPI

    from api.cli.common import client_tls_context

    app = FastAPI()
    app.add_api_route("/ping", lambda: {"ok": True})
    served = CarbonLedgerSettings(data_dir=tmp_path, tls_cert_file=tls.pem, tls_key_file=tls.pem)
    with serve(app, tls=tls) as url:
        # An unknown issuer is not trusted without being configured.
        with (
            httpx.Client(verify=client_tls_context(served)) as http,
            pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        ):
            http.get(f"{url}/ping")
        with httpx.Client(verify=client_tls_context(served, trust_served=True)) as http:
            assert http.get(f"{url}/ping").json() == {"ok": True}
        with_ca = CarbonLedgerSettings(data_dir=tmp_path, outbound_ca_file=tls.ca_pem)
        with httpx.Client(verify=client_tls_context(with_ca)) as http:
            assert http.get(f"{url}/ping").json() == {"ok": True}
