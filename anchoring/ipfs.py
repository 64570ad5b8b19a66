"""Publishing batch manifests to a Kubo (go-ipfs) node, optionally.

A manifest's CIDv1 (raw codec, sha2-256) is always computed locally
(ledger.core): the anchor carries it whether or not anything is published.
When a Kubo RPC URL is configured, the manifest bytes are stored there as one
raw block with ``/api/v0/block/put`` and pinned, and the CID Kubo answers must
equal ours byte for byte.

We speak Kubo's HTTP RPC directly with httpx rather than through
``ipfshttpclient``: that client refuses daemons newer than 0.8 and is no longer
maintained, and one POST is all we need.
"""

from __future__ import annotations

import json

import httpx

from ledger.core.errors import AnchoringError, UnavailableError

# Kubo refuses blocks over 1 MiB unless told otherwise (and such blocks do not
# travel over bitswap); a manifest of ~15,000 leaves reaches that.
MAX_BLOCK_BYTES = 1024 * 1024


class KuboPublisher:
    """Stores manifest bytes as raw blocks on one Kubo node (its RPC API)."""

    def __init__(self, rpc_url: str, *, timeout_s: float = 10.0) -> None:
        self._base = rpc_url.rstrip("/")
        self._timeout_s = timeout_s

    def publish(self, manifest: bytes, *, expected_cid: str) -> str:
        """Put and pin ``manifest`` as a raw block; return the CID, checked against ours."""
        if len(manifest) > MAX_BLOCK_BYTES:
            raise AnchoringError(
                f"manifest of {len(manifest)} bytes exceeds Kubo's {MAX_BLOCK_BYTES}-byte block "
                "limit: lower the batch size to publish it"
            )
        url = f"{self._base}/api/v0/block/put"
        params = {"cid-codec": "raw", "mhtype": "sha2-256", "mhlen": "-1", "pin": "true"}
        try:
            response = httpx.post(
                url,
                params=params,
                files={"file": ("manifest.json", manifest, "application/octet-stream")},
                timeout=self._timeout_s,
            )
        except httpx.HTTPError as exc:
            raise UnavailableError(f"Kubo RPC at {self._base} did not answer: {exc}") from exc
        if response.status_code >= 500:
            raise UnavailableError(
                f"Kubo RPC at {self._base} answered {response.status_code}", retry_after_s=5.0
            )
        if response.status_code != 200:
            raise AnchoringError(
                f"Kubo RPC refused the manifest ({response.status_code}): {response.text[:200]}"
            )
        try:
            cid = json.loads(response.content)["Key"]
        except (ValueError, KeyError, TypeError) as exc:
            raise AnchoringError(f"Kubo RPC at {self._base} answered without a CID") from exc
        if cid != expected_cid:
            raise AnchoringError(f"Kubo stored the manifest as {cid}, expected {expected_cid}")
        return str(cid)
