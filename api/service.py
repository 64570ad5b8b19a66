"""What the routes call: one method per operation over the ledger service, the queries, the
exporter and the access store, so that no handler holds SQL or hashing.

Function-level checks (which role may call what) are made here; object-level checks (whose
records) are made below, in ``ledger.service.query`` through ``Access``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from anchoring.chain import Chain
from anchoring.chain.base import ArtifactLike
from anchoring.deployment import DeploymentRecord, deployment_differences
from api.auth import Caller, require_role
from api.crossborder import CrossBorderApi
from api.limits import ANONYMOUS_BUNDLE_LIMIT, ApiLimits
from api.metrics import ServiceMetrics
from api.problems import ForbiddenError, problem_slug
from api.readers import Read, bundle_reads
from api.readiness import ReadinessChecks
from api.registry import RegistryService
from api.security import AccessService, privileged
from ledger.core.bundle import ChainRef, serialize_bundle
from ledger.core.canonical import canonicalize, parse_json
from ledger.core.clock import Clock
from ledger.core.errors import LedgerError, MalformedError, UnavailableError
from ledger.core.reasons import REASONS, VERDICT_CODES, reason_for
from ledger.core.records import Record
from ledger.core.signature import ALG_ED25519, key_id, public_key_bytes
from ledger.core.view import Commitment
from ledger.service import LedgerService, receipt_bytes
from ledger.service.claims import claims_of_unit
from ledger.service.crossborder import CrossBorderDesk, Signer
from ledger.service.export import BundleExporter, ExportResult
from ledger.service.locks import refuse_record_if_locked
from ledger.service.query import LedgerQueries
from ledger.service.readmodels import (
    BatchDetail,
    Page,
    RecordStatus,
    RecordView,
    StoredAttestation,
    StoredBatch,
    TrailEntry,
)
from ledger.service.revocation import request_revocation
from ledger.store import Store, Transaction
from ledger.store import access as access_store
from ledger.store.chainfacts import add_attestation

__all__ = ["ApiService", "StoredResponse"]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    replayed: bool = False
    #: The records of a fresh answer (a replay names none: its body is the stored one).
    record_ids: tuple[str, ...] = ()


class ApiService:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        ledger: LedgerService | None,
        chain: Chain | None,
        deployment: DeploymentRecord | None,
        artifacts: Mapping[str, ArtifactLike] | None,
        limits: ApiLimits,
        assessor: Signer | None = None,
        converter: Signer | None = None,
        shared_metrics: Path | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ledger = ledger
        self.chain = chain
        self.deployment = deployment
        self.artifacts = artifacts
        self.limits = limits
        self.queries = LedgerQueries(store)
        #: The registry's reads, the enterprise register, access grants and the access
        #: log (api.registry, api.readers).
        self.registry = RegistryService(store=store, clock=clock)
        self.readers = self.registry.readers
        self.crossborder = CrossBorderApi(
            CrossBorderDesk(store=store, ledger=ledger, assessor=assessor, converter=converter),
            self.queries,
            clock,
        )
        self.chain_ref = (
            ChainRef(
                deployment.chain_id,
                deployment.address_of("AnchorRegistry"),
                deployment.address_of("TrustRegistry"),
            )
            if deployment is not None
            else None
        )
        self.exporter = (
            BundleExporter(
                store,
                chain=self.chain_ref,
                service_public_key=(
                    public_key_bytes(ledger.service_key) if ledger is not None else None
                ),
            )
            if self.chain_ref is not None
            else None
        )
        self.access = AccessService(store=store, clock=clock)
        self.metrics = ServiceMetrics(
            store=store,
            clock=clock,
            accepted=lambda: ledger.accepted_count if ledger is not None else 0,
            shared=shared_metrics,
        )
        self.readiness_checks = ReadinessChecks(
            store_check=self.queries.ping,
            chain_check=self._chain_checks,
            budget_s=limits.readiness_budget_s,
            cache_s=limits.readiness_cache_s,
            on_chain_error=lambda: self.metrics.chain_errors.labels("readiness").inc(),
        )

    # -- callers -------------------------------------------------------------------

    def authenticate(self, token: str) -> Caller | None:
        principal = self.store.run(lambda s: access_store.authenticate(s, token), readonly=True)
        if principal is None:
            return None
        return Caller.of(principal, key_id=access_store.api_key_id(token))

    # -- writes --------------------------------------------------------------------

    def _accepting(self) -> LedgerService:
        if self.ledger is None:
            raise UnavailableError("this instance does not accept records (no service key)")
        return self.ledger

    @staticmethod
    def _authorize(caller: Caller, record: Record) -> None:
        """Object-level check of a submission: a producer writes only as itself and only the
        record types it is allowed (called by the accept path on the parsed record)."""
        if record.producer != caller.producer:
            raise ForbiddenError(
                f"record {record.id}: principal {caller.name} writes as {caller.producer}, "
                f"not {record.producer}"
            )
        if record.type not in caller.record_types:
            raise ForbiddenError(
                f"record {record.id}: principal {caller.name} may not submit {record.type} records"
            )

    def submit(
        self, caller: Caller, body: bytes, idempotency_key: str, *, bulk: bool
    ) -> StoredResponse:
        """Accept one submission or a bulk under an Idempotency-Key (docs/API.md §3.1)."""
        name = require_role(caller, "producer")
        try:
            fingerprint = hashlib.sha256(body).hexdigest()
            now = self.clock()
            stored = self.store.run(
                lambda s: self._claim(s, name, idempotency_key, fingerprint, now)
            )
            if stored is not None:
                return StoredResponse(
                    stored.status, stored.body, replayed=True, record_ids=_receipt_ids(stored.body)
                )
            try:
                ledger = self._accepting()
                authorize = partial(self._authorize, caller)
                if bulk:
                    receipts = ledger.accept_bulk(body, authorize=authorize)
                    out = canonicalize({"receipts": [r.to_json() for r in receipts]})
                else:
                    receipts = [ledger.accept(body, authorize=authorize)]
                    out = receipt_bytes(receipts[0])
            except BaseException:
                self.store.run(
                    lambda s: access_store.release_idempotency_key(
                        s, principal=name, key=idempotency_key
                    )
                )
                raise
            self.store.run(
                lambda s: access_store.complete_idempotency_key(
                    s, principal=name, key=idempotency_key, status=201, body=out
                )
            )
        except LedgerError as exc:
            self.metrics.rejected.labels(problem_slug(exc)).inc()
            raise
        return StoredResponse(201, out, record_ids=tuple(r.record_id for r in receipts))

    def _claim(
        self, session: Transaction, name: str, key: str, fingerprint: str, now: datetime
    ) -> access_store.StoredResponse | None:
        """Purges a few expired Idempotency-Keys, then claims this one (one transaction)."""
        limits = self.limits
        access_store.purge_idempotency_keys(
            session,
            cutoff=now - timedelta(seconds=limits.idempotency_retention_s),
            limit=limits.idempotency_purge_batch,
        )
        return access_store.claim_idempotency_key(
            session,
            principal=name,
            key=key,
            request_sha256_hex=fingerprint,
            now=now,
            stale_after_s=limits.idempotency_stale_s,
            retain_s=limits.idempotency_retention_s,
        )

    def request_revocation(
        self, caller: Caller, record_id: str, reason_code: int, reason_digest_hex: str
    ) -> RecordStatus:
        """Regulators revoke any record; a producer its own, for the reasons a producer may
        give (docs/API.md §3.5). The anchorer writes it on-chain."""
        name = require_role(caller, "regulator", "producer")
        reason = reason_for(reason_code, path="reason_code")
        if caller.role == "producer" and not reason.producer_may_use:
            raise ForbiddenError(
                f"reason {reason.code} ({reason.slug}) is a regulator's to give; a producer "
                "may revoke its own records for "
                + ", ".join(f"{r.code} ({r.slug})" for r in REASONS if r.producer_may_use)
            )
        digest_hex = self.queries.digest_of(record_id, self.readers.access(caller))
        request_revocation(
            self.store,
            digest_hex=digest_hex,
            reason=reason,
            reason_digest_hex=reason_digest_hex,
            requested_by=name,
            now=self.clock(),
        )
        return self.queries.status(record_id, self.readers.access(caller))

    def file_attestation(
        self,
        caller: Caller,
        record_id: str,
        report_digest_hex: str,
        verdict: str,
        tx_hash: str | None,
    ) -> tuple[StoredAttestation, ...]:
        """Notes an auditor's attestation; it counts once TrustRegistry holds it (the body
        sends ``attest`` from its own accredited address, which the platform cannot)."""
        name = require_role(caller, "auditor")
        if verdict not in VERDICT_CODES:
            choices = ", ".join(VERDICT_CODES)
            raise MalformedError(f"verdict must be one of {choices}", path="verdict")
        digest_hex = self.queries.digest_of(record_id, self.readers.access(caller))
        now = self.clock()
        self.store.run(
            lambda s: add_attestation(
                s,
                digest_hex=digest_hex,
                attester=name,
                report_digest_hex=report_digest_hex,
                verdict=verdict,
                observed_at=now,
                state="pending",
                tx_hash=tx_hash,
            )
        )
        return self.queries.attestations(record_id, self.readers.access(caller))

    # -- reads ---------------------------------------------------------------------

    def record(self, caller: Caller, record_id: str, *, channel: str = "api") -> RecordView:
        reading = self.readers.reading(caller)
        found = self.queries.record(record_id, reading.access)
        summary = found.summary
        if privileged(caller, full=reading.access.sees_full(summary.producer, summary.subject)):
            self.access.note_read(caller, f"record {record_id}")
        if found.confidential and isinstance(found.view, Commitment):
            read = Read("record", record_id, found.summary.subject)
            self.readers.note(reading, [read], channel=channel)
        return found

    def status(self, caller: Caller, record_id: str) -> RecordStatus:
        return self.queries.status(record_id, self.readers.access(caller))

    def trail(self, caller: Caller, subject: str, after: int, limit: int) -> Page[TrailEntry]:
        return self.queries.trail(subject, self.readers.access(caller), after=after, limit=limit)

    def batches(self, after: int, limit: int) -> Page[StoredBatch]:
        return self.queries.batches(after=after, limit=limit)

    def batch(self, seq: int) -> BatchDetail:
        return self.queries.batch(seq)

    def attestations(self, caller: Caller, record_id: str) -> tuple[StoredAttestation, ...]:
        return self.queries.attestations(record_id, self.readers.access(caller))

    def records_by_digest(self, caller: Caller, digests_hex: list[str]) -> dict[str, str]:
        """digest -> record id, for the digests whose record the caller may see."""
        return self.queries.record_ids_by_digest(digests_hex, self.readers.access(caller))

    def claims(self, caller: Caller, unit: str) -> list[dict[str, Any]]:
        """The claims of a unit: public, like the claim records' regime (docs/RECORDS.md §4)."""
        return claims_of_unit(self.store, unit)

    # -- bundles -------------------------------------------------------------------

    def _exporter(self) -> BundleExporter:
        if self.exporter is None:
            raise UnavailableError("no deployment record: bundles cannot name the chain")
        return self.exporter

    def bundle_record(
        self, caller: Caller, record_id: str, *, channel: str = "api"
    ) -> tuple[bytes, ExportResult]:
        # A conversion or a declaration leaves only while its subject is not red-locked
        # for its region (ledger.service.locks).
        self.store.run(lambda s: refuse_record_if_locked(s, record_id), readonly=True)
        reading = self.readers.reading(caller)
        result = self._exporter().for_record(record_id, reading.access)
        target = f"bundle of record {record_id}"
        self._note_bundle(caller, result, target)
        self.readers.note(reading, bundle_reads(result.bundle, target), channel=channel)
        return serialize_bundle(result.bundle), result

    def bundle_records(self, caller: Caller, record_ids: list[str]) -> tuple[bytes, ExportResult]:
        """The bundle of named records (a CBAM package's consignments, docs/CBAM.md §1)."""
        require_role(caller, *access_store.ROLES)
        reading = self.readers.reading(caller)
        result = self._exporter().for_records(record_ids, reading.access)
        target = f"bundle of {len(record_ids)} named records"
        self._note_bundle(caller, result, target)
        self.readers.note(reading, bundle_reads(result.bundle, target), channel="api")
        return serialize_bundle(result.bundle), result

    def bundle_query(
        self,
        caller: Caller,
        *,
        subject: str | None,
        record_type: str | None,
        producer: str | None,
        after: int,
        limit: int,
        record_ids: tuple[str, ...] | None = None,
        batch_seq: int | None = None,
        channel: str = "api",
        region: str | None = None,
    ) -> tuple[bytes, ExportResult]:
        # A bundle of thousands of records is tens of MB and seconds of work: an auditor's
        # request, not an anonymous one. Anonymous callers keep the listing page cap.
        if caller.is_anonymous and limit > ANONYMOUS_BUNDLE_LIMIT:
            raise MalformedError(
                f"anonymous callers get at most {ANONYMOUS_BUNDLE_LIMIT} records per bundle; "
                "authenticate for larger bundles",
                path="query.limit",
            )
        if region is not None:
            if subject is None:
                raise MalformedError("a bundle for a region names its subject", path="region")
            self.crossborder.desk.refuse_if_locked(
                subject, region, what=f"the bundle of {subject} for {region}"
            )
        reading = self.readers.reading(caller)
        result = self._exporter().for_query(
            reading.access,
            subject=subject,
            record_type=record_type,
            producer=producer,
            batch_seq=batch_seq,
            after=after,
            limit=limit,
            record_ids=record_ids,
        )
        query: dict[str, object] = {
            "subject": subject,
            "type": record_type,
            "producer": producer,
            "batch": batch_seq,
            "after": after or None,
        }
        if record_ids:
            query["ids"] = len(record_ids)
        shown = " ".join(f"{k}={v}" for k, v in query.items() if v is not None)
        target = f"bundle of query {shown}".strip()
        self._note_bundle(caller, result, target)
        self.readers.note(reading, bundle_reads(result.bundle, target), channel=channel)
        return serialize_bundle(result.bundle), result

    def _note_bundle(self, caller: Caller, result: ExportResult, target: str) -> None:
        items = result.bundle.items + result.bundle.closure
        full = sum(isinstance(item.view, Commitment) for item in items)
        if privileged(caller, full=full > 0):
            self.access.note_read(caller, f"{target} ({full} records in full)")

    # -- principals (admin) --------------------------------------------------------

    def add_principal(self, caller: Caller, **fields: Any) -> dict[str, Any]:
        require_role(caller, "admin")
        now = self.clock()
        row = self.store.run(lambda s: access_store.add_principal(s, created_at=now, **fields))
        return principal_json(row)

    def principals(self, caller: Caller) -> list[dict[str, Any]]:
        require_role(caller, "admin")
        rows = self.store.run(access_store.list_principals, readonly=True)
        return [principal_json(r) for r in rows]

    def principal(self, caller: Caller, name: str) -> dict[str, Any]:
        require_role(caller, "admin")
        return principal_json(
            self.store.run(lambda s: access_store.get_principal(s, name), readonly=True)
        )

    # -- service, health, metrics ----------------------------------------------------

    def service_info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": "carbonledger-service/1", "alg": ALG_ED25519}
        if self.ledger is not None:
            out["public_key"] = public_key_bytes(self.ledger.service_key).hex()
            out["service_key_id"] = key_id(self.ledger.service_key)
            out["max_merge_delay_s"] = self.ledger.max_merge_delay_s
        else:
            out.update(public_key=None, service_key_id=None, max_merge_delay_s=None)
        out["chain"] = self.chain_ref.to_json() if self.chain_ref is not None else None
        return out

    def readiness(self) -> dict[str, str]:
        """``ok`` or the reason, per dependency, within the readiness budget."""
        return self.readiness_checks.verdict()

    def _chain_checks(self) -> tuple[str, str]:
        if self.chain is None:
            return "no chain configured", "not checked"
        try:
            self.chain.block_number()
        except LedgerError as exc:
            return exc.message, "not checked"
        if self.deployment is None:
            return "ok", "no deployment record"
        if self.artifacts is None:
            return "ok", "no compiled contracts to compare with"
        try:
            differences = deployment_differences(self.chain, self.deployment, self.artifacts)
        except LedgerError as exc:
            return exc.message, "not checked"
        return "ok", "ok" if not differences else "; ".join(differences)


def _receipt_ids(body: bytes) -> tuple[str, ...]:
    """The record ids of a stored answer (a receipt, or ``{receipts: [...]}``)."""
    try:
        value = parse_json(body)
    except MalformedError:
        return ()
    receipts = value.get("receipts", [value]) if isinstance(value, dict) else []
    return tuple(str(r["record_id"]) for r in receipts if isinstance(r, dict) and "record_id" in r)


def principal_json(row: access_store.Principal) -> dict[str, Any]:
    from ledger.core.canonical import format_timestamp

    return {
        "name": row.name,
        "role": row.role,
        "producer": row.producer,
        "record_types": list(row.record_types or []),
        "grants": list(row.grants or []),
        "created_at": format_timestamp(row.created_at),
        "disabled_at": None if row.disabled_at is None else format_timestamp(row.disabled_at),
    }
