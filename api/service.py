"""What the routes call: one method per operation over the ledger service, the queries, the
exporter and the access store, so that no handler holds SQL or hashing.

Function-level checks (which role may call what) are made here; object-level checks (whose
records) are made below, in ``ledger.service.query`` through ``Access``.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from anchoring.chain import Chain
from anchoring.chain.base import ArtifactLike
from anchoring.deployment import DeploymentRecord, deployment_differences
from api.auth import Caller, access_for, require_role
from api.crossborder import CrossBorderApi
from api.limits import ANONYMOUS_BUNDLE_LIMIT, ApiLimits
from api.problems import ForbiddenError, problem_slug
from ledger.core.bundle import ChainRef, serialize_bundle
from ledger.core.canonical import canonicalize
from ledger.core.clock import Clock
from ledger.core.errors import LedgerError, MalformedError, UnavailableError
from ledger.core.reasons import REASONS, VERDICT_CODES, reason_for
from ledger.core.records import Record
from ledger.core.signature import ALG_ED25519, key_id, public_key_bytes
from ledger.service import LedgerService, receipt_bytes
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
    ) -> None:
        self.store = store
        self.clock = clock
        self.ledger = ledger
        self.chain = chain
        self.deployment = deployment
        self.artifacts = artifacts
        self.limits = limits
        self.queries = LedgerQueries(store)
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
        self.accepted_total = 0
        self.rejected_total: Counter[str] = Counter()
        self._ready: tuple[float, dict[str, str]] | None = None

    # -- callers -------------------------------------------------------------------

    def authenticate(self, token: str) -> Caller | None:
        principal = self.store.run(lambda s: access_store.authenticate(s, token), readonly=True)
        return None if principal is None else Caller.of(principal)

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
                return StoredResponse(stored.status, stored.body, replayed=True)
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
            self.rejected_total[problem_slug(exc)] += 1
            raise
        self.accepted_total += len(receipts)
        return StoredResponse(201, out)

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
        digest_hex = self.queries.digest_of(record_id, access_for(caller))
        request_revocation(
            self.store,
            digest_hex=digest_hex,
            reason=reason,
            reason_digest_hex=reason_digest_hex,
            requested_by=name,
            now=self.clock(),
        )
        return self.queries.status(record_id, access_for(caller))

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
        digest_hex = self.queries.digest_of(record_id, access_for(caller))
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
        return self.queries.attestations(record_id, access_for(caller))

    # -- reads ---------------------------------------------------------------------

    def record(self, caller: Caller, record_id: str) -> RecordView:
        return self.queries.record(record_id, access_for(caller))

    def status(self, caller: Caller, record_id: str) -> RecordStatus:
        return self.queries.status(record_id, access_for(caller))

    def trail(self, caller: Caller, subject: str, after: int, limit: int) -> Page[TrailEntry]:
        return self.queries.trail(subject, access_for(caller), after=after, limit=limit)

    def batches(self, after: int, limit: int) -> Page[StoredBatch]:
        return self.queries.batches(after=after, limit=limit)

    def batch(self, seq: int) -> BatchDetail:
        return self.queries.batch(seq)

    def attestations(self, caller: Caller, record_id: str) -> tuple[StoredAttestation, ...]:
        return self.queries.attestations(record_id, access_for(caller))

    def records_by_digest(self, caller: Caller, digests_hex: list[str]) -> dict[str, str]:
        """digest -> record id, for the digests whose record the caller may see."""
        return self.queries.record_ids_by_digest(digests_hex, access_for(caller))

    # -- bundles -------------------------------------------------------------------

    def _exporter(self) -> BundleExporter:
        if self.exporter is None:
            raise UnavailableError("no deployment record: bundles cannot name the chain")
        return self.exporter

    def bundle_record(self, caller: Caller, record_id: str) -> tuple[bytes, ExportResult]:
        # A conversion or a declaration leaves only while its subject is not red-locked
        # for its region (ledger.service.locks).
        self.store.run(lambda s: refuse_record_if_locked(s, record_id), readonly=True)
        result = self._exporter().for_record(record_id, access_for(caller))
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
        result = self._exporter().for_query(
            access_for(caller),
            subject=subject,
            record_type=record_type,
            producer=producer,
            after=after,
            limit=limit,
        )
        return serialize_bundle(result.bundle), result

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

    def issue_key(self, caller: Caller, principal: str) -> access_store.IssuedKey:
        require_role(caller, "admin")
        now = self.clock()
        return self.store.run(lambda s: access_store.issue_api_key(s, principal, created_at=now))

    def revoke_key(self, caller: Caller, key_id_: str) -> None:
        require_role(caller, "admin")
        now = self.clock()
        self.store.run(lambda s: access_store.revoke_api_key(s, key_id_, at=now))

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
        """``ok`` or the reason, per dependency; cached for ``readiness_cache_s``."""
        now = time.monotonic()
        if self._ready is not None and now - self._ready[0] < self.limits.readiness_cache_s:
            return self._ready[1]
        checks: dict[str, str] = {}
        try:
            self.queries.ping()
            checks["store"] = "ok"
        except LedgerError as exc:
            checks["store"] = exc.message
        checks["chain"], checks["deployment"] = self._chain_checks()
        self._ready = (now, checks)
        return checks

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

    def metrics(self) -> dict[str, Any]:
        counts = self.queries.counts()
        oldest = counts.oldest_unanchored_accepted_at
        lag_s = 0.0 if oldest is None else max(0.0, (self.clock() - oldest).total_seconds())
        return {
            "accepted": self.accepted_total,
            "rejected": dict(self.rejected_total),
            "by_status": counts.by_status,
            "anchoring_lag_s": lag_s,
        }


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
