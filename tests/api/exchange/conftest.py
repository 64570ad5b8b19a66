"""Fixtures of the PACT tests: the service served over TLS (and over plain HTTP, to be
refused), a buyer's host to answer to, and the official schema to validate against."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import CarbonLedgerSettings
from ledger.service.delivery import Deliverer, DeliveryLimits, ExchangeWorker
from ledger.store.webhooks import add_subscription
from tests.api.world import NOW, SERVICE_KEY, Template, World, open_world
from tests.support.pactspec import ENV, PactSpec, find_spec_dir, load_spec
from tests.support.tlsserver import BuyerSystem, TlsAuthority, serve

#: The buyer's client at our host: an auditor principal of the API test world.
BUYER = "tuv-auditor"
COMPANY_NAME = "Example Anticorrosion Equipment Co."
COMPANY_ID = "urn:carbonledger:enterprise:example-anticorrosion-equipment"


@pytest.fixture(scope="session")
def pact_spec() -> PactSpec:
    directory = find_spec_dir()
    if directory is None:
        pytest.skip(
            f"the official PACT v3 files are not on this machine: set {ENV} to a directory "
            "holding openapi.yaml, examples/ and conformance/ (wbcsd/data-exchange-protocol "
            "spec/v3 and pact-conformance-service docs)"
        )
    return load_spec(directory)


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsAuthority:
    return TlsAuthority(tmp_path_factory.mktemp("tls"))


def pact_settings(data_dir: Path) -> CarbonLedgerSettings:
    return CarbonLedgerSettings(
        data_dir=data_dir,
        chain="memory",
        pact_company_name=COMPANY_NAME,
        pact_company_ids=COMPANY_ID,
    )


@dataclass
class PactHost:
    """Our service, served over TLS at ``url`` and over plain HTTP at ``http_url``."""

    world: World
    url: str
    http_url: str
    tls: TlsAuthority

    def client(self) -> httpx.Client:
        return httpx.Client(verify=self.tls.client_context(), timeout=30)

    def token(self, principal: str = BUYER) -> str:
        secret = self.world.template.tokens[principal]
        with self.client() as http:
            r = http.post(
                f"{self.url}/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(principal, secret),
            )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert isinstance(token, str)
        return token

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {token or self.token()}"}
        with self.client() as http:
            return http.get(f"{self.url}{path}", headers=headers, **kwargs)

    def worker(self) -> ExchangeWorker:
        pact = self.world.app.state.pact.service
        deliverer = Deliverer(
            self.world.store,
            clock=self.world.clock,
            signing_key=SERVICE_KEY,
            http=httpx.Client(verify=self.tls.client_context()),
            limits=DeliveryLimits(),
        )
        return ExchangeWorker(pact=pact, deliverer=deliverer)


@pytest.fixture
def pact_host(template: Template, tls: TlsAuthority, tmp_path: Path) -> Iterator[PactHost]:
    data_dir = tmp_path / "data"
    world = open_world(template, data_dir, settings=pact_settings(data_dir))
    try:
        with serve(world.app, tls=tls) as url, serve(world.app, tls=None) as http_url:
            yield PactHost(world, url, http_url, tls)
    finally:
        world.store.close()


@dataclass
class Buyer:
    system: BuyerSystem
    url: str


@pytest.fixture
def buyer(pact_host: PactHost, tls: TlsAuthority) -> Iterator[Buyer]:
    """A buyer's host, registered as the events endpoint of the client ``BUYER``."""
    system = BuyerSystem()
    with serve(system.app, tls=tls) as url:
        with pact_host.world.store.transaction() as session:
            add_subscription(
                session,
                principal=BUYER,
                kind="pact",
                url=f"{url}/3/events",
                events=["footprint.published"],
                token_url=f"{url}/auth/token",
                client_id=system.client_id,
                client_secret=system.client_secret,
                created_at=NOW,
            )
        yield Buyer(system, url)


def event_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:24]


@pytest.fixture
def chain_restored(template: Template) -> Iterator[None]:
    """The shared memory chain is put back as it was when the test ends (tests that
    anchor new batches on it)."""
    snapshot = template.chain.snapshot()
    try:
        yield
    finally:
        template.chain.revert(snapshot)


def anchor_all(world: World) -> None:
    """Seal and anchor every pending record of ``world`` with the real anchorer."""
    from anchoring.anchorer import Anchorer, AnchorerLimits

    anchorer = Anchorer(
        store=world.store,
        chain=world.template.chain,
        deployment=world.template.deployment,
        artifacts=world.template.artifacts,
        clock=world.clock,
        limits=AnchorerLimits(batch_max_records=1000, batch_max_age_s=1.0, poll_interval_s=0.0),
    )
    world.clock.advance(5)
    try:
        for _ in range(10):
            anchorer.run_once()
            if set(world.app.state.api.queries.counts().by_status) == {"anchored"}:
                return
        raise AssertionError("the anchorer did not anchor every record")
    finally:
        anchorer.close()
