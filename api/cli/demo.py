"""The demo of ``carbonledger up --demo`` (docs/DEMO.md), run against a running service.

Every step is what an operator, a producer and a verification body would do, through the
same interfaces: the operator registers the producers' keys (TrustRegistry first, then
the store, docs/FORMAT.md §3), creates their API principals and accredits the verification body
(REGISTRAR); the producers submit the scenario's records through the HTTP API with the
producer client; the anchorer of the service anchors them; the body exports a bundle
through the API, verifies it and files its attestations on-chain with its own key
(``carbon-verify attest``), and tells the platform about them (``POST /v1/attestations``).

Each step can run again (a second ``make run``): keys, principals and credentials are kept
under ``<data_dir>/demo/``, a record already stored is not submitted again (its stored
digest is cited instead), and the attestation is not filed twice for the same bundle.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from anchoring.chain import DEV_CHAIN_ID, Chain, RpcChain
from anchoring.chain.base import ArtifactLike
from anchoring.chain.dev import dev_account_keys
from anchoring.revert import ContractRevertError
from api.cli.demo_efficiency import (
    EFFICIENCY_PRODUCERS,
    REFERENCE_TYPES,
    EfficiencyDemo,
    efficiency_step,
)
from api.cli.demo_register import register_step
from api.cli.runner import ServiceState
from api.cli.trustroot import TRUST_ROOT_FILE, build_trust_root, write_trust_root
from api.demo.crossborder import CROSSBORDER_PRODUCERS, crossborder_step
from api.demo.register import READERS
from api.demo.scenario import demo_documents, demo_records
from ledger.client import LedgerClient
from ledger.core.errors import AnchoringError, MalformedError, NotFoundError, UnavailableError
from ledger.core.receipt import Receipt
from ledger.core.signature import key_id, public_key_bytes
from ledger.service.export import MAX_BUNDLE_ITEMS
from ledger.service.service_key import load_service_key, read_key_file, write_key_file
from ledger.store import Store
from ledger.store import access as access_store
from ledger.store.producers import grant_key_type, mirror_key

__all__ = ["DemoResult", "run_demo", "verify_command"]

log = logging.getLogger("carbonledger.demo")

DEMO_DIR = "demo"
KEYS_FROM = datetime(2025, 1, 1, tzinfo=UTC)
KEYS_UNTIL = datetime(2031, 1, 1, tzinfo=UTC)
BODY_NAME = "Example Verification Body (accredited, ISO 14065)"
BODY_SCOPE = "ISO 14065:2020 / ISO 14064-3:2019 verification of product carbon footprints"
BODY_REGIONS = "EU,GB,SEA,CN"
BODY_PRINCIPAL = "demo-verification-body"
#: The regulator whose key ``up --demo`` prints for signing in on the pages.
REGULATOR_PRINCIPAL = "demo-regulator"
RATING_PRODUCER = "urn:carbonledger:producer:credit-rating-desk"

#: principal name -> (producer, record types it may submit)
PRODUCERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "demo-plant-mes": ("urn:carbonledger:producer:example-plant-mes",
                       ("carbon-record", "bim-archive")),
    "demo-conversion": ("urn:carbonledger:producer:conversion-service",
                        ("factor-substitution",)),
    "demo-refdata": ("urn:carbonledger:producer:reference-data-desk",
                     ("factor-set", "region-rule", "rating-rule", *REFERENCE_TYPES)),
    "demo-rating": ("urn:carbonledger:producer:credit-rating-desk", ("credit-change",)),
    **EFFICIENCY_PRODUCERS,
    **CROSSBORDER_PRODUCERS,
}  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    bundle_path: Path
    trust_root_path: Path
    record_ids: tuple[str, ...]
    receipts: dict[str, Receipt]
    batches: tuple[int, ...]
    attestations_filed: int
    report_digest_hex: str
    documents_dir: Path
    #: The API key of the demo regulator (``credentials.json``), to sign in on the pages.
    regulator_key: str
    #: What an earlier run had made already and this one used as it was.
    reused: tuple[str, ...] = ()
    #: the carbon-efficiency part (docs/DEMO.md): the code's page URL, report, bundle
    efficiency: EfficiencyDemo | None = None


def _say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def operator_account(chain_id: int, configured: LocalAccount | None) -> LocalAccount:
    """The operator's signer: the configured one, or the dev chain's first account."""
    if configured is not None:
        return configured
    if chain_id != DEV_CHAIN_ID:
        raise MalformedError(
            "the demo needs the operator's key on this chain: set CARBONLEDGER_SIGNER_KEYSTORE "
            "or CARBONLEDGER_SIGNER_KEY",
            path="signer",
        )
    account: LocalAccount = Account.from_key(dev_account_keys()[0])
    return account


def _body_account(directory: Path, chain: Chain, operator: LocalAccount) -> LocalAccount:
    """The verification body's own account: a dev account on the dev chain, otherwise a
    key made here and funded by the operator for its attestation transactions."""
    path = directory / "keys" / "verification-body.eth-key"
    account: LocalAccount
    if path.exists():
        account = Account.from_key(path.read_text().strip())
        return account
    if chain.chain_id == DEV_CHAIN_ID:
        account = Account.from_key(dev_account_keys()[1])
    else:
        account = Account.create()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("0x" + bytes(account.key).hex() + "\n")
    if chain.balance_wei(account.address) < 10**16:
        chain.send_value(account.address, 5 * 10**16, sender=operator)
    return account


def _producer_keys(directory: Path) -> dict[str, Any]:
    keys = {}
    for producer, _ in PRODUCERS.values():
        path = directory / "keys" / f"{_slug(producer.rsplit(':', 1)[-1])}.pem"
        if not path.exists():
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            write_key_file(path, Ed25519PrivateKey.generate())
        keys[producer] = read_key_file(path)
    return keys


def _register_keys(
    chain: Chain, trust: Any, store: Store, keys: Mapping[str, Any], operator: LocalAccount
) -> int:
    """TrustRegistry ``registerKey`` and ``grantRecordType`` (the types the producer's
    principal submits) unless the chain has them, then the store rows; returns how many
    keys the chain had already."""
    types_of = {producer: types for producer, types in PRODUCERS.values()}
    known = 0
    for producer, private in keys.items():
        public = public_key_bytes(private)
        kid = hashlib.sha256(public).digest()
        tx_hash: str | None = None
        try:
            chain.call(trust.functions.getKey(kid))
            known += 1
        except ContractRevertError:
            receipt = chain.transact(
                trust.functions.registerKey(
                    kid,
                    public,
                    hashlib.sha256(producer.encode()).digest(),
                    int(KEYS_FROM.timestamp()),
                    int(KEYS_UNTIL.timestamp()),
                ),
                sender=operator,
            )
            tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        granted: dict[str, datetime] = {}
        for record_type in types_of[producer]:
            since, _ = chain.call(trust.functions.getRecordTypeGrant(kid, record_type))
            if not since:
                receipt = chain.transact(
                    trust.functions.grantRecordType(kid, record_type), sender=operator
                )
                since = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
            granted[record_type] = datetime.fromtimestamp(int(since), UTC)
        with store.transaction() as session:
            mirror_key(
                session, producer=producer, public_key_hex=public.hex(), valid_from=KEYS_FROM,
                valid_until=KEYS_UNTIL, revoked_at=None, tx_hash=tx_hash, at=KEYS_FROM,
            )  # fmt: skip
            for record_type, since_at in granted.items():
                grant_key_type(session, kid.hex(), record_type, granted_at=since_at)
    return known


def _credentials(directory: Path, store: Store) -> dict[str, str]:
    """API tokens of the demo principals, created once and kept in a 0600 file."""
    path = directory / "credentials.json"
    tokens: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted: dict[str, tuple[str, str | None, list[str], list[str]]] = {
        name: ("producer", producer, list(types), [])
        for name, (producer, types) in PRODUCERS.items()
    }
    wanted[BODY_PRINCIPAL] = ("auditor", None, [], ["*"])
    wanted[REGULATOR_PRINCIPAL] = ("regulator", None, [], [])
    for name, role in READERS.items():
        wanted[name] = (role, None, [], [])
    now = datetime.now(UTC)
    with store.transaction() as session:
        for name, (role, producer, types, grants) in wanted.items():
            try:
                access_store.get_principal(session, name)
            except NotFoundError:
                access_store.add_principal(
                    session, name, role=role, producer=producer, record_types=types,
                    grants=grants, created_at=now,
                )  # fmt: skip
                tokens.pop(name, None)
            if name not in tokens:
                tokens[name] = access_store.issue_api_key(session, name, created_at=now).token
    tmp = path.with_name(".credentials.json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(tokens, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return tokens


def _accredit(chain: Chain, trust: Any, body: LocalAccount, operator: LocalAccount) -> bool:
    """Accredit the verification body unless it is; True when it was already."""
    now = int(time.time())
    if chain.call(trust.functions.isAccredited(body.address, now)):
        return True
    chain.transact(
        trust.functions.accreditBody(
            body.address, BODY_NAME, BODY_SCOPE, BODY_REGIONS, int(KEYS_FROM.timestamp()),
            int(KEYS_UNTIL.timestamp()),
        ),
        sender=operator,
    )  # fmt: skip
    return False


def _submit_all(
    clients: Mapping[str, LedgerClient],
) -> tuple[dict[str, dict[str, Any]], dict[str, Receipt], int]:
    """Submit the scenario's records; returns them, their receipts, and how many of them
    were stored already (their receipts are fetched, they are not submitted again)."""
    receipts: dict[str, Receipt] = {}
    stored = 0

    def digest_of(record: dict[str, Any]) -> str:
        nonlocal stored
        client = clients[record["producer"]]
        try:
            receipt = client.get_receipt(record["id"])
            stored += 1
        except NotFoundError:
            receipt = client.submit(record)
        receipts[record["id"]] = receipt
        return receipt.digest_hex

    records = demo_records(digest_of)
    return records, receipts, stored


def _wait_anchored(
    client: LedgerClient, ids: list[str], *, timeout_s: float
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    last = -1
    while True:
        statuses = {rid: client.get_status(rid) for rid in ids}
        waiting = [rid for rid, s in statuses.items() if s["anchoring"] != "anchored"]
        if not waiting:
            return statuses
        if len(waiting) != last:
            _say(f"waiting for the anchorer: {len(ids) - len(waiting)} of {len(ids)} anchored")
            last = len(waiting)
        if time.monotonic() > deadline:
            raise UnavailableError(
                f"{len(waiting)} records were not anchored within {timeout_s:.0f} s "
                f"(first: {waiting[0]}); see `carbonledger status`"
            )
        time.sleep(0.5)


def verify_command(bundle: Path, trust_root: Path, *, program: str = "carbon-verify") -> list[str]:
    """The argv of the auditor's command that verifies ``bundle`` against the chain with the
    pins of ``trust_root`` (``carbonledger trust-root``: chain id and genesis, both
    registries and their code hashes, the service key id, the endpoints)."""
    return [program, "bundle", str(bundle), "--trust-root", str(trust_root)]


def _verifier(argv: list[str]) -> tuple[int, str]:
    """``carbon-verify`` in-process (the same main as the console script), its stdout."""
    from verifier.cli import main as verify_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = verify_main(argv)
    return code, out.getvalue()


def _attest(
    directory: Path, trust_root: Path, bundle_path: Path, digests: set[str]
) -> tuple[str, list[tuple[str, str]]]:
    """File the body's attestations once per bundle content; returns the report digest and
    (record id, transaction hash) of each attestation filed now."""
    out_dir = directory / "attestation"
    done = out_dir / "filed.json"
    if done.exists():
        filed = json.loads(done.read_text())
        if set(filed["digests"]) == digests:
            return str(filed["report_digest"]), []
    key_file = directory / "keys" / "verification-body.eth-key"
    argv = verify_command(bundle_path, trust_root)[1:]
    argv[0] = "attest"
    code, out = _verifier([*argv, "--key-file", str(key_file), "--out-dir", str(out_dir), "--json"])
    if code != 0:
        raise AnchoringError(f"carbon-verify attest exited with {code}: see the messages above")
    summary = json.loads(out)
    done.write_text(
        json.dumps({"report_digest": summary["report_digest"], "digests": sorted(digests)}) + "\n"
    )
    report = json.loads((out_dir / "report.json").read_text())
    # attest files one transaction per bundle item, in the order of the report's records.
    ids = [str(r["id"]) for r in report["records"]]
    return str(summary["report_digest"]), list(zip(ids, summary["transactions"], strict=True))


def run_demo(
    state: ServiceState,
    *,
    data_dir: Path,
    store_url: str,
    artifacts: Mapping[str, ArtifactLike],
    signer: LocalAccount | None,
    timeout_s: float = 300.0,
    progress: Callable[[str], None] = _say,
    verify: ssl.SSLContext | None = None,
) -> DemoResult:
    """Load the scenario into the service ``state`` describes and return its evidence;
    ``verify`` is the TLS context of the calls to its API (docs/OPERATIONS.md §6)."""
    if not state.rpc_url:
        raise MalformedError(
            "the demo needs a chain the verifier can reach: use the dev chain or --rpc",
            path="--chain",
        )
    directory = data_dir / DEMO_DIR
    directory.mkdir(parents=True, exist_ok=True)
    reused: list[str] = []
    operator = operator_account(state.chain_id, signer)
    chain = RpcChain(state.rpc_url, expected_chain_id=state.chain_id, signer=operator)
    store = Store.open(store_url, create=False)
    try:
        trust = chain.contract(artifacts["TrustRegistry"], state.trust_registry)
        progress("registering producer keys and accrediting the verification body")
        keys = _producer_keys(directory)
        known_keys = _register_keys(chain, trust, store, keys, operator)
        if known_keys:
            reused.append(f"{known_keys} producer keys registered earlier")
        body = _body_account(directory, chain, operator)
        if _accredit(chain, trust, body, operator):
            reused.append("the verification body's accreditation")
        had_tokens = (directory / "credentials.json").exists()
        tokens = _credentials(directory, store)
        if had_tokens:
            reused.append("the demo principals and their API keys")
    finally:
        store.close()
        chain.close()
    documents_dir = directory / "documents"
    documents_dir.mkdir(exist_ok=True)
    for name, content in demo_documents().items():
        (documents_dir / name).write_bytes(content)
    service_key_id = key_id(load_service_key(data_dir).private_key)
    clients = {
        producer: LedgerClient(
            state.api_url,
            tokens[name],
            producer_key=keys[producer],
            service_key_id=service_key_id,
            http=_http(verify),
        )
        for name, (producer, _) in PRODUCERS.items()
    }
    try:
        progress(f"submitting the scenario through the API at {state.api_url}")
        records, receipts, stored = _submit_all(clients)
        ids = list(records)
        if stored:
            reused.append(f"{stored} of {len(ids)} records stored earlier (not submitted again)")
        progress("registering the enterprises, a C-grade rating and the readers' access requests")
        register_step(
            state.api_url, tokens, clients[RATING_PRODUCER], receipts,
            regulator=REGULATOR_PRINCIPAL, verify=verify,
        )  # fmt: skip
        auditor = LedgerClient(
            state.api_url, tokens[BODY_PRINCIPAL], service_key_id=service_key_id, http=_http(verify)
        )
        with auditor, contextlib.closing(auditor.http):
            statuses = _wait_anchored(auditor, ids, timeout_s=timeout_s)
            progress("every record is anchored; exporting the bundle through the API")
            # Exactly the scenario's records: whatever else the ledger holds (other
            # producers' records, a record that fails verification) stays out of it.
            response = auditor.http.get(
                "/v1/bundles", params={"id": ids, "limit": min(len(ids), MAX_BUNDLE_ITEMS)}
            )
            if response.status_code != 200:
                raise UnavailableError(f"GET /v1/bundles answered HTTP {response.status_code}")
            bundle_path = directory / "bundle.json"
            bundle_path.write_bytes(response.content)
            trust_root = write_trust_root(
                build_trust_root(data_dir, endpoints=[state.rpc_url], min_depth=1),
                data_dir / TRUST_ROOT_FILE,
            )
            code, _ = _verifier(verify_command(bundle_path, trust_root)[1:])
            if code != 0:
                raise AnchoringError(
                    f"the exported bundle does not verify (carbon-verify exit {code})"
                )
            digests = {receipts[rid].digest_hex for rid in ids}
            progress("the verification body attests the bundle on-chain (carbon-verify attest)")
            report_digest, filed = _attest(directory, trust_root, bundle_path, digests)
            if not filed:
                reused.append("the attestation filed for this bundle earlier")
            for rid, tx in filed:
                _note_attestation(auditor.http, rid, report_digest, tx)
            efficiency = efficiency_step(
                state, directory=directory, store_url=store_url, artifacts=artifacts,
                operator=operator, clients=clients, auditor=auditor, timeout_s=timeout_s,
                verify=lambda path: _verifier(verify_command(path, trust_root)[1:])[0],
                progress=progress,
            )  # fmt: skip
            for line in crossborder_step(
                clients=clients, reader=auditor, records=records, receipts=receipts,
                page_base=state.api_url, directory=directory, body_name=BODY_NAME,
                progress=progress,
            ):  # fmt: skip
                print(f"cross-border  {line}", flush=True)
    finally:
        for client in clients.values():
            client.close()
            if verify is not None:  # the client does not close an http client it was given
                client.http.close()
    return DemoResult(
        bundle_path=bundle_path,
        trust_root_path=trust_root,
        record_ids=tuple(ids),
        receipts=receipts,
        batches=tuple(sorted({int(s["batch_seq"]) for s in statuses.values()})),
        attestations_filed=len(filed),
        report_digest_hex=report_digest,
        documents_dir=documents_dir,
        regulator_key=tokens[REGULATOR_PRINCIPAL],
        reused=tuple(reused),
        efficiency=efficiency,
    )


def _http(verify: ssl.SSLContext | None) -> httpx.Client | None:
    """The HTTP client of the demo's API calls: the default one, or one trusting ``verify``."""
    return None if verify is None else httpx.Client(verify=verify, timeout=10.0)


def _note_attestation(http: httpx.Client, record_id: str, report_hex: str, tx: str) -> None:
    """Tell the platform about an attestation (it counts once TrustRegistry holds it)."""
    body = {
        "record_id": record_id,
        "report_digest": report_hex,
        "verdict": "conforms",
        "tx_hash": tx,
    }
    response = http.post("/v1/attestations", json=body)
    # 409: the chain follower mirrored the attestation from TrustRegistry first.
    if response.status_code not in (201, 409):
        log.warning("POST /v1/attestations for %s: HTTP %s", record_id, response.status_code)
