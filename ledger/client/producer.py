"""The producer's client: commit, sign, submit with retries, and check what comes back
(docs/API.md §7)."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.client.problems import RETRY_STATUSES, problem_error
from ledger.core.bundle import Bundle, parse_bundle
from ledger.core.canonical import parse_json
from ledger.core.errors import LedgerError, MalformedError, SignatureError, UnavailableError
from ledger.core.receipt import Receipt, verify_receipt
from ledger.core.signature import key_id
from ledger.core.submission import batch_bytes, submission_bytes
from ledger.core.view import Commitment, commit

__all__ = ["LedgerClient", "idempotency_key"]

_IDEMPOTENCY_DOMAIN = b"carbonledger.idempotency.v1\x00"


def idempotency_key(record_id: str, digest_hex: str) -> str:
    """The Idempotency-Key of one submission: SHA-256 over the record id and digest."""
    return hashlib.sha256(
        _IDEMPOTENCY_DOMAIN + record_id.encode("utf-8") + b"\x00" + digest_hex.encode("ascii")
    ).hexdigest()


class LedgerClient:
    """A producer's client. ``http`` may be given (tests pass an in-process client)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        producer_key: Ed25519PrivateKey | None = None,
        timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        service_key_id: str | None = None,
        service_public_key: bytes | None = None,
        http: httpx.Client | None = None,
        salt_source: Callable[[int], bytes] = secrets.token_bytes,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if retries < 0:
            raise MalformedError("retries must not be negative", path="retries")
        if (
            service_public_key is not None
            and service_key_id is not None
            and key_id(service_public_key) != service_key_id
        ):
            raise MalformedError(
                "service_public_key does not match service_key_id", path="service_key_id"
            )
        self.producer_key = producer_key
        self.retries = retries
        self.backoff_s = backoff_s
        self.service_key_id = service_key_id
        self._service_public_key = service_public_key
        self._salt_source = salt_source
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_http = http is None
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout_s)
        self.http.headers.update(headers)
        if http is not None:
            self.http.base_url = httpx.URL(base_url)

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> LedgerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One call with retries on 502/503/504 and transport errors; same bytes each time."""
        delay = self.backoff_s
        last: LedgerError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                wait = delay
                if last is not None and isinstance(last, UnavailableError) and last.retry_after_s:
                    wait = max(wait, last.retry_after_s)
                self._sleep(wait)
                delay *= 2
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                last = UnavailableError(f"{method} {url}: {type(exc).__name__}: {exc}")
                continue
            if response.status_code in RETRY_STATUSES:
                last = problem_error(response)
                continue
            if response.status_code >= 400:
                raise problem_error(response)
            return response
        raise last or UnavailableError(f"{method} {url}: no attempt made (retries < 0)")

    def _json(self, response: httpx.Response) -> Any:
        return parse_json(response.content, root="response")

    # -- the service key ---------------------------------------------------------------

    def service_info(self) -> dict[str, Any]:
        info = self._json(self._request("GET", "/v1/service"))
        if not isinstance(info, dict):
            raise MalformedError("expected an object", path="service")
        return info

    def service_public_key(self) -> bytes:
        """The receipt-signing key: the configured one, or /v1/service's, checked against
        the configured key id when there is one."""
        if self._service_public_key is None:
            info = self.service_info()
            public_hex = info.get("public_key")
            if not isinstance(public_hex, str) or len(public_hex) != 64:
                raise MalformedError("the service publishes no public key", path="public_key")
            public = bytes.fromhex(public_hex)
            if self.service_key_id is not None and key_id(public) != self.service_key_id:
                raise SignatureError(
                    "the service's key is not the one this client was configured with",
                    expected=self.service_key_id,
                    computed=key_id(public),
                )
            self._service_public_key = public
        return self._service_public_key

    # -- writing -----------------------------------------------------------------------

    def prepare(self, record: Mapping[str, Any]) -> tuple[Commitment, bytes]:
        """Commit ``record`` with fresh salts and sign it; returns the commitment and the
        submission bytes (keep both to retry later with the same key)."""
        if self.producer_key is None:
            raise MalformedError("this client has no producer key", path="producer_key")
        commitment = commit(dict(record), salt_source=self._salt_source)
        return commitment, submission_bytes(commitment, self.producer_key)

    def _check_receipt(self, obj: Any, commitment: Commitment, path: str) -> Receipt:
        receipt = Receipt.from_json(obj, path=path)
        verify_receipt(
            receipt,
            self.service_public_key(),
            digest_hex=commitment.digest_hex,
            record_id=str(commitment.record["id"]),
        )
        return receipt

    def submit_prepared(self, commitment: Commitment, body: bytes) -> Receipt:
        key = idempotency_key(str(commitment.record["id"]), commitment.digest_hex)
        response = self._request(
            "POST",
            "/v1/records",
            content=body,
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        return self._check_receipt(self._json(response), commitment, "receipt")

    def submit(self, record: Mapping[str, Any]) -> Receipt:
        """Commit, sign and submit one record; returns its verified receipt."""
        return self.submit_prepared(*self.prepare(record))

    def submit_bulk(self, records: Sequence[Mapping[str, Any]]) -> list[Receipt]:
        """Submit records in one all-or-nothing call; returns their verified receipts."""
        prepared = [self.prepare(r) for r in records]
        body = batch_bytes([b for _, b in prepared])
        key = hashlib.sha256(
            b"".join(
                idempotency_key(str(c.record["id"]), c.digest_hex).encode() for c, _ in prepared
            )
        ).hexdigest()
        response = self._request(
            "POST",
            "/v1/records/bulk",
            content=body,
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        out = self._json(response)
        receipts = out.get("receipts") if isinstance(out, dict) else None
        if not isinstance(receipts, list) or len(receipts) != len(prepared):
            raise MalformedError("expected one receipt per record", path="receipts")
        return [
            self._check_receipt(r, c, f"receipts[{i}]")
            for i, (r, (c, _)) in enumerate(zip(receipts, prepared, strict=True))
        ]

    # -- reading -----------------------------------------------------------------------

    def get_record(self, record_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self._json(
            self._request("GET", "/v1/record", params={"id": record_id})
        )
        return out

    def get_status(self, record_id: str) -> dict[str, Any]:
        out: dict[str, Any] = self._json(
            self._request("GET", "/v1/record/status", params={"id": record_id})
        )
        return out

    def get_receipt(self, record_id: str) -> Receipt:
        """The stored receipt of a record, checked against the service key."""
        status = self.get_status(record_id)
        receipt = Receipt.from_json(status.get("receipt"), path="receipt")
        verify_receipt(receipt, self.service_public_key(), record_id=record_id)
        return receipt

    def get_bundle(
        self,
        record_id: str | None = None,
        *,
        subject: str | None = None,
        record_type: str | None = None,
        limit: int = 50,
    ) -> Bundle:
        """The evidence bundle of a record, or of a subject's records / a query; parsed
        strictly and required to be in canonical form (docs/FORMAT.md §5)."""
        if record_id is not None:
            response = self._request("GET", "/v1/record/bundle", params={"id": record_id})
        else:
            params: dict[str, Any] = {"limit": limit}
            if subject is not None:
                params["subject"] = subject
            if record_type is not None:
                params["type"] = record_type
            response = self._request("GET", "/v1/bundles", params=params)
        return parse_bundle(response.content, require_canonical=True)
