"""``carbon-verify attest``: an accredited body verifies a bundle, signs its report and
files one attestation per item on the TrustRegistry with its own key.

The report (``carbonledger-attestation-report/1``) embeds the full verification report;
its digest is SHA-256 of its JCS bytes without the signature (RFC 8785), and that digest
is what ``TrustRegistry.attest(recordDigest, reportDigest, verdict)`` puts on-chain, so a
regulator holding the report can find it on-chain and vice versa. The signature is the
body's Ethereum key over the report digest (EIP-191 ``personal_sign``), the same key
whose address the registrar accredited: no second key to manage or trust.

This is the verifier's only write, and it goes through the body's key alone; the
platform's keys and servers are not involved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct

from ledger.core.canonical import canonicalize, parse_json
from ledger.core.clock import Clock
from ledger.core.errors import LedgerError, UnavailableError
from verifier.invocation import UsageError, pins_from, read_bounded, run_verification, say
from verifier.model import EXIT_FAILED, EXIT_OK, Verification
from verifier.report import render_bilingual, report_json

__all__ = ["ATTESTATION_REPORT_FORMAT", "attest_command", "build_report", "file_attestations"]

ATTESTATION_REPORT_FORMAT = "carbonledger-attestation-report/1"
VERDICTS = {"conforms": 1, "findings": 2, "nonconforms": 3}


def load_key(path: Path, password_file: Path | None) -> Any:
    """The body's account from a file holding a 0x hex private key or a keystore JSON."""
    text = read_bounded(path, max_bytes=64 << 10, what="key file").decode("utf-8", "replace")
    text = text.strip()
    try:
        if text.startswith("{"):
            if password_file is None:
                raise UsageError(f"{path} is a keystore: give --password-file")
            password = read_bounded(password_file, max_bytes=4096, what="password file")
            return Account.from_key(Account.decrypt(json.loads(text), password.decode().strip()))
        return Account.from_key(text)
    except UsageError:
        raise
    except Exception as exc:  # eth_account raises ValueError/TypeError/binascii errors
        raise UsageError(f"{path}: not a usable Ethereum key ({type(exc).__name__})") from None


def build_report(
    verification: Verification,
    *,
    pins: Any,
    checked_at: Any,
    body: dict[str, Any],
    verdict: int,
    records: list[dict[str, str]],
    account: Any,
) -> dict[str, Any]:
    """The signed report: everything but ``report_digest``/``signature`` is what is hashed."""
    report: dict[str, Any] = {
        "format": ATTESTATION_REPORT_FORMAT,
        "body": body,
        "verdict": verdict,
        "records": records,
        "verification": report_json(verification, pins=pins, checked_at=checked_at),
    }
    # Round-trip through strict JSON so the hashed form is exactly what readers will see.
    unsigned = parse_json(canonicalize(report))
    digest = hashlib.sha256(canonicalize(unsigned)).digest()
    signed = account.sign_message(encode_defunct(primitive=digest))
    report["report_digest"] = digest.hex()
    report["signature"] = {
        "alg": "eip191-secp256k1",
        "signer": account.address,
        "value": "0x" + bytes(signed.signature).hex(),
    }
    return report


def verify_report_signature(report: dict[str, Any]) -> str:
    """Recompute the digest of a report and recover its signer's address."""
    unsigned = {k: v for k, v in report.items() if k not in ("report_digest", "signature")}
    digest = hashlib.sha256(canonicalize(unsigned)).digest()
    if digest.hex() != report["report_digest"]:
        raise LedgerError("report_digest does not match the report")
    signer: str = Account.recover_message(
        encode_defunct(primitive=digest), signature=report["signature"]["value"]
    )
    return signer


def file_attestations(
    url: str,
    trust_registry: str,
    account: Any,
    digests: list[bytes],
    report_digest: bytes,
    verdict: int,
    *,
    timeout_s: float = 10.0,
) -> list[str]:
    """Send ``attest`` for each digest to the TrustRegistry through ``url``, signed
    locally; returns the transaction hashes."""
    from web3 import HTTPProvider, Web3

    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_s}))
    contract = w3.eth.contract(address=Web3.to_checksum_address(trust_registry), abi=_trust_abi())
    hashes = []
    try:
        nonce = int(w3.eth.get_transaction_count(account.address, "pending"))
        chain_id = int(w3.eth.chain_id)
        for digest in digests:
            fn = contract.functions.attest(digest, report_digest, verdict)
            gas = int(fn.estimate_gas({"from": account.address}))
            params: Any = {
                "from": account.address,
                "nonce": nonce,
                "chainId": chain_id,
                "gas": gas + gas // 5,
                **_fees(w3),
            }
            tx = fn.build_transaction(params)
            raw = account.sign_transaction(tx).raw_transaction
            tx_hash = w3.eth.send_raw_transaction(raw)
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
            if int(receipt["status"]) != 1:
                raise LedgerError(f"attest for {digest.hex()} failed on-chain ({tx_hash.hex()})")
            hashes.append("0x" + bytes(tx_hash).hex())
            nonce += 1
    except LedgerError:
        raise
    except Exception as exc:
        raise UnavailableError(
            f"filing attestations through {url} failed after {len(hashes)} of "
            f"{len(digests)} ({type(exc).__name__}: {str(exc)[:160]})"
        ) from exc
    return hashes


def _trust_abi() -> list[dict[str, Any]]:
    from verifier.chain import load_abi

    return load_abi("TrustRegistry")


def _fees(w3: Any) -> dict[str, int]:
    base = w3.eth.get_block("latest").get("baseFeePerGas")
    if base is None:
        return {"gasPrice": int(w3.eth.gas_price)}
    tip = 10**9
    return {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}


def attest_command(args: argparse.Namespace, clock: Clock) -> int:
    pins = pins_from(args)
    account = load_key(args.key_file, args.password_file)
    checked_at = clock().replace(microsecond=0)
    data = read_bounded(args.file)  # read once: what is verified is what is attested
    verification, reader = run_verification(args, pins, data=data)
    if verification.unreadable or verification.verdict == "indeterminate":
        say(f"no attestation filed: the verification is {verification.verdict}")
        return verification.exit_code
    passed = verification.verdict == "verified"
    if verification.verdict == "not-recomputed" and args.verdict in (None, "conforms"):
        # Nothing failed, but not every figure was checked: "conforms" would attest to
        # figures nobody recomputed (docs/VERIFY.md §7).
        say(
            "refused: the figures of some records could not be recomputed from this bundle; "
            "verify a bundle in the full view, or file --verdict findings or nonconforms"
        )
        return verification.exit_code
    verdict = VERDICTS[args.verdict or ("conforms" if passed else "nonconforms")]
    if verdict != 3 and not passed and verification.verdict != "not-recomputed":
        say("refused: the bundle failed checks, so only --verdict nonconforms can be filed")
        return EXIT_FAILED
    body = reader.body(account.address)
    now = int(checked_at.timestamp())
    if body is None or body.withdrawn or not body.valid_from <= now < body.valid_until:
        say(f"{account.address} is not accredited in the TrustRegistry at {pins.trust_registry}")
        return EXIT_FAILED
    from ledger.core.bundle import parse_bundle
    from ledger.core.view import reconstruct

    bundle = parse_bundle(data)
    records = []
    for item in bundle.items:
        raw = reconstruct(item.view)
        records.append(
            {"id": str(raw.get("id")), "type": str(raw.get("type")), "digest": item.digest.hex()}
        )
    report = build_report(
        verification,
        pins=pins,
        checked_at=checked_at,
        body={
            "address": account.address,
            "name": body.name,
            "scope": body.scope,
            "regions": body.regions,
        },
        verdict=verdict,
        records=records,
        account=account,
    )
    out_dir: Path = args.out_dir
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        (out_dir / "report.txt").write_text(render_bilingual(report), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the report into {out_dir}: {exc.strerror or exc}") from None
    digests = [item.digest for item in bundle.items]
    tx_hashes = file_attestations(
        pins.rpc[0],
        reader.trust_address,
        account,
        digests,
        bytes.fromhex(report["report_digest"]),
        verdict,
        timeout_s=args.timeout,
    )
    summary = {
        "report_digest": report["report_digest"],
        "verdict": verdict,
        "report": str(out_dir / "report.json"),
        "text": str(out_dir / "report.txt"),
        "transactions": tx_hashes,
    }
    if args.json:
        sys.stdout.write(json.dumps(summary, indent=1) + "\n")
    else:
        sys.stdout.write(
            f"attested {len(tx_hashes)} record(s), verdict {verdict}, report digest "
            f"{report['report_digest']}\nreport: {summary['report']}\ntext:   {summary['text']}\n"
        )
    return EXIT_OK
