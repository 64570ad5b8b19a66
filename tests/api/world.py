"""A populated ledger for the API tests, built once per session through the real parts.

Every example record (ledger.examples) is submitted by its producer's
``LedgerClient`` through the app in-process (real accept path, real receipts), then the
real ``Anchorer`` seals and anchors the batches on a py-evm chain with the registries
deployed. The store file is the template: each test copies it and opens its own app, so
no test sees another's writes.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from anchoring.anchorer import Anchorer, AnchorerLimits
from anchoring.chain import Chain
from anchoring.deployment import DeploymentRecord, deploy_contracts
from api.app import create_app
from api.limits import ApiLimits
from api.settings import CarbonLedgerSettings
from ledger.client import LedgerClient
from ledger.core.receipt import Receipt
from ledger.core.signature import private_key_from_seed, public_key_bytes
from ledger.examples import example_records
from ledger.service import LedgerService, ManualClock
from ledger.service.crossborder import Signer
from ledger.store import Store, sqlite_url
from ledger.store.access import add_principal, issue_api_key
from ledger.store.chainfacts import mark_status_mined, mark_status_sending, request_revocation
from ledger.store.producers import add_producer, add_producer_key
from tests.support.ledgerdata import example_types

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
#: The media type of every JSON request body (others are refused with 415).
JSON = {"Content-Type": "application/json"}
KEYS_FROM = datetime(2025, 1, 1, tzinfo=UTC)
KEYS_UNTIL = datetime(2031, 1, 1, tzinfo=UTC)
MAX_MERGE_DELAY_S = 600
SERVICE_KEY = private_key_from_seed(hashlib.sha256(b"api test service key").digest())

PLANT = "urn:carbonledger:producer:example-plant-mes"
CONVERSION = "urn:carbonledger:producer:conversion-service"
REFDATA = "urn:carbonledger:producer:reference-data-desk"
RATING = "urn:carbonledger:producer:credit-rating-desk"
TANK_SUBJECT = "88.118.8/ST-TK-0101"
ENTERPRISE = "urn:carbonledger:enterprise:example-anticorrosion-equipment"

#: principal name -> (role, producer, record types, grants)
PRINCIPALS: dict[str, tuple[str, str | None, list[str], list[str]]] = {
    "plant-mes": ("producer", PLANT, ["carbon-record", "bim-archive"], []),
    "conversion": ("producer", CONVERSION, ["factor-substitution"], []),
    "refdata": ("producer", REFDATA, ["factor-set", "region-rule", "rating-rule"], []),
    "rating": ("producer", RATING, ["credit-change"], []),
    "tuv-auditor": ("auditor", None, [], [TANK_SUBJECT]),
    "eu-regulator": ("regulator", None, [], []),
    "ops-admin": ("admin", None, [], []),
    # Authorised readers (docs/API.md §2.1): the enterprise reads its own data in full, the
    # bank and the bidder only what a grant gives them.
    "tank-maker": ("enterprise", None, [], [ENTERPRISE]),
    "green-bank": ("financial-institution", None, [], []),
    "bidder-co": ("bidder", None, [], []),
}


def producer_key(producer: str) -> Ed25519PrivateKey:
    return private_key_from_seed(hashlib.sha256(f"api test key {producer}".encode()).digest())


def settings_for(data_dir: Path) -> CarbonLedgerSettings:
    return CarbonLedgerSettings(data_dir=data_dir, chain="memory")


@dataclass
class Template:
    """The session's populated store file and what the tests need to know about it."""

    store_file: Path
    chain: Chain
    deployment: DeploymentRecord
    artifacts: Mapping[str, Any]
    tokens: dict[str, str]
    records: dict[str, dict[str, Any]]
    receipts: dict[str, Receipt] = field(default_factory=dict)


@dataclass
class World:
    """One test's app over its own copy of the template store."""

    template: Template
    store: Store
    clock: ManualClock
    app: FastAPI
    http: TestClient

    def client(self, principal: str | None, **kwargs: Any) -> LedgerClient:
        token = self.template.tokens[principal] if principal else None
        producer = PRINCIPALS[principal][1] if principal else None
        return LedgerClient(
            "http://testserver",
            token,
            producer_key=producer_key(producer) if producer else None,
            service_key_id=_service_key_id(),
            http=TestClient(self.app, raise_server_exceptions=False),
            **kwargs,
        )

    def headers(self, principal: str | None) -> dict[str, str]:
        if principal is None:
            return {}
        return {"Authorization": f"Bearer {self.template.tokens[principal]}"}


def scrape(world: World) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``GET /metrics`` parsed by prometheus_client's own parser: (name, labels) -> value."""
    text = world.http.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _service_key_id() -> str:
    return hashlib.sha256(public_key_bytes(SERVICE_KEY)).hexdigest()


def open_world(
    template: Template,
    data_dir: Path,
    *,
    limits: ApiLimits | None = None,
    settings: CarbonLedgerSettings | None = None,
    signers: tuple[Signer | None, Signer | None] | None = None,
) -> World:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = Path(sqlite_url(data_dir).split("///", 1)[1])
    shutil.copyfile(template.store_file, target)
    clock = ManualClock(NOW)
    store = Store.open(sqlite_url(data_dir), clock=clock)
    ledger = LedgerService(
        store=store, service_key=SERVICE_KEY, clock=clock, max_merge_delay_s=MAX_MERGE_DELAY_S
    )
    app = create_app(
        settings or settings_for(data_dir),
        store=store,
        chain=template.chain,
        clock=clock,
        ledger=ledger,
        deployment=template.deployment,
        artifacts=template.artifacts,
        limits=limits,
        signers=signers or (None, None),
    )
    return World(template, store, clock, app, TestClient(app, raise_server_exceptions=False))


def _bootstrap(store: Store) -> dict[str, str]:
    tokens: dict[str, str] = {}
    with store.transaction() as session:
        for producer_id in (PLANT, CONVERSION, REFDATA, RATING):
            add_producer(session, producer_id, created_at=KEYS_FROM)
            add_producer_key(
                session,
                producer=producer_id,
                public_key_hex=public_key_bytes(producer_key(producer_id)).hex(),
                valid_from=KEYS_FROM,
                record_types=example_types().get(producer_id, ()),
            )
        for name, (role, producer, types, grants) in PRINCIPALS.items():
            add_principal(
                session,
                name,
                role=role,
                producer=producer,
                record_types=types,
                grants=grants,
                created_at=KEYS_FROM,
            )
            tokens[name] = issue_api_key(session, name, created_at=KEYS_FROM).token
    return tokens


def register_key_on_chain(
    chain: Chain,
    artifacts: Mapping[str, Any],
    deployment: DeploymentRecord,
    producer_id: str,
    public: bytes,
    record_types: Iterable[str],
) -> None:
    """TrustRegistry ``registerKey`` and ``grantRecordType`` for one producer key."""
    trust = chain.contract(artifacts["TrustRegistry"], deployment.address_of("TrustRegistry"))
    key_id = hashlib.sha256(public).digest()
    chain.transact(
        trust.functions.registerKey(
            key_id,
            public,
            hashlib.sha256(producer_id.encode()).digest(),
            int(KEYS_FROM.timestamp()),
            int(KEYS_UNTIL.timestamp()),
        )
    )
    for record_type in record_types:
        chain.transact(trust.functions.grantRecordType(key_id, record_type))


def register_keys_on_chain(
    chain: Chain, artifacts: Mapping[str, Any], deployment: DeploymentRecord
) -> None:
    """Every example producer's key and grants: the verifier trusts the chain's keys and
    grants, not the store's (docs/CONTRACTS.md §4)."""
    for producer_id in (PLANT, CONVERSION, REFDATA, RATING):
        public = public_key_bytes(producer_key(producer_id))
        register_key_on_chain(
            chain,
            artifacts,
            deployment,
            producer_id,
            public,
            example_types().get(producer_id, ()),
        )


def build_template(chain: Chain, artifacts: Mapping[str, Any], data_dir: Path) -> Template:
    """Submit every example record through the API and anchor them all."""
    deployment = deploy_contracts(chain, artifacts, admin_delay_s=0)
    register_keys_on_chain(chain, artifacts, deployment)
    bootstrap = Store.open(sqlite_url(data_dir), clock=ManualClock(NOW))
    tokens = _bootstrap(bootstrap)
    bootstrap.close()
    template = Template(
        store_file=Path(sqlite_url(data_dir).split("///", 1)[1]),
        chain=chain,
        deployment=deployment,
        artifacts=artifacts,
        tokens=tokens,
        records={},
    )
    world = open_world(template, data_dir / "work")
    by_producer = {p[1]: name for name, p in PRINCIPALS.items() if p[1] is not None}
    clients = {producer: world.client(name) for producer, name in by_producer.items()}

    def digest_of(record: dict[str, Any]) -> str:
        # example_records asks for each digest right after building the record and before
        # the records citing it: submitting here gives the real digest to cite.
        receipt = clients[record["producer"]].submit(record)
        template.receipts[record["id"]] = receipt
        return receipt.digest_hex

    template.records = example_records(digest_of)
    anchor_everything(world)
    world.store.close()
    # The anchored store becomes the template (WAL checkpointed by the close above).
    template.store_file = Path(sqlite_url(data_dir / "work").split("///", 1)[1])
    return template


def run_anchorer(world: World, done: Callable[[], bool], *, tick_s: float = 0.0) -> bool:
    """Run the real anchorer over ``world`` until ``done()``: its clock 5 s on, then
    ``tick_s`` more after each round; at most 20 rounds. Whether ``done()`` came true."""
    template = world.template
    anchorer = Anchorer(
        store=world.store,
        chain=template.chain,
        deployment=template.deployment,
        artifacts=template.artifacts,
        clock=world.clock,
        limits=AnchorerLimits(batch_max_records=7, batch_max_age_s=1.0, poll_interval_s=0.0),
    )
    try:
        world.clock.advance(5)
        for _ in range(20):
            anchorer.run_once()
            if done():
                return True
            world.clock.advance(tick_s)
        return False
    finally:
        anchorer.close()


def anchor_everything(world: World) -> None:
    """Run the real anchorer over ``world`` until every record is anchored."""

    def counts() -> dict[str, int]:
        return dict(world.app.state.api.queries.counts().by_status)

    if not run_anchorer(world, lambda: set(counts()) == {"anchored"}):
        raise AssertionError(f"the anchorer did not anchor every record: {counts()}")


def revoke_in_store(
    world: World, digest_hex: str, *, mined: bool = True, reason_code: int = 7
) -> None:
    """A revocation of ``digest_hex`` as the store holds it once requested and, when
    ``mined``, once the anchorer has written it on-chain (no chain involved)."""
    with world.store.transaction() as session:
        row = request_revocation(
            session, digest_hex=digest_hex, reason_code=reason_code,
            reason_digest_hex="cd" * 32, requested_at=NOW,
        )  # fmt: skip
        if mined:
            mark_status_sending(session, "revoke", row.id)
            mark_status_mined(
                session, "revoke", row.id, tx_hash="0x" + "11" * 32, block_number=9,
                block_hash="0x" + "22" * 32, at=NOW,
            )  # fmt: skip
