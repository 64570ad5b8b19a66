"""``carbonledger status``: what the ledger holds and how far anchoring has come.

Pending records, the last batch, the anchoring lag (age of the oldest record not yet
anchored), the chain height (with ``--rpc``; a dev chain is never started by this
command), how many manifests wait to be published (when a Kubo URL is set) and the open
alerts. Reads only; it can run beside the service.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from anchoring.deployment import load_deployment
from api.cli.anchor import add_kubo_option, kubo_url, open_store, read_only_chain
from api.cli.common import EXIT_OK, add_chain_options, add_store_option, print_rows, record_dir
from api.settings import CarbonLedgerSettings
from ledger.core.canonical import format_timestamp
from ledger.core.errors import LedgerError
from ledger.store import batches as batch_repo
from ledger.store import chainmirror
from ledger.store.alerts import alert_history, open_alerts
from ledger.store.chainfacts import count_statuses
from ledger.store.stats import latest_anchored_batch, operations_stats

#: Resolved alerts the status shows, newest first (the history).
CLOSED_SHOWN = 10


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="pending records, last batch, anchoring lag, chain height, alerts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_chain_options(parser)
    add_store_option(parser)
    add_kubo_option(parser)
    parser.set_defaults(run=run)


def _alert_json(alert: Any) -> dict[str, Any]:
    out = {
        "id": alert.id,
        "kind": alert.kind,
        "raised_at": format_timestamp(alert.raised_at),
        "message": alert.message,
    }
    if alert.resolved_at is not None:
        out["resolved_at"] = format_timestamp(alert.resolved_at)
    return out


def collect(store: Any, *, now: datetime, publishing: bool = False) -> dict[str, Any]:
    """What the status shows; ``publishing`` adds ``unpublished`` (manifests waiting for
    the Kubo node, None without one)."""
    with store.transaction(readonly=True) as session:
        stats = operations_stats(session)
        last = batch_repo.latest_batch(session)
        last_anchored = latest_anchored_batch(session)
        unpublished = batch_repo.count_unpublished(session) if publishing else None
        alerts = [_alert_json(a) for a in open_alerts(session)]
        closed = [_alert_json(a) for a in alert_history(session, limit=CLOSED_SHOWN)]
        statuses = count_statuses(session)
        follower = chainmirror.position(session, chainmirror.FOLLOWER)
    oldest = stats.oldest_unanchored_at
    counts = stats.records_by_status
    return {
        "records": counts,
        "pending": counts["pending"],
        "batches": {k: v for k, v in stats.batches_by_state.items() if v},
        "anchor_txs": {k: v for k, v in stats.anchor_txs_by_state.items() if v},
        "last_batch": None
        if last is None
        else {
            "seq": last.seq,
            "state": last.state,
            "leaf_count": last.leaf_count,
            "root": last.root_hex,
            "tx_hash": last.tx_hash,
            "block": last.anchored_block_number,
            "last_error": last.last_error,
        },
        "last_anchored_seq": last_anchored.seq if last_anchored else None,
        "last_anchored_at": format_timestamp(last_anchored.anchored_at)
        if last_anchored and last_anchored.anchored_at
        else None,
        "lag_s": None if oldest is None else max(0, int((now - oldest).total_seconds())),
        "unpublished": unpublished,
        "statuses": statuses,
        "follower": None
        if follower is None
        else {
            "block": follower.block_number,
            "head": follower.head_block,
            "lag_blocks": follower.lag_blocks,
        },
        "alerts": alerts,
        "closed_alerts": closed,
    }


def run(args: argparse.Namespace, settings: CarbonLedgerSettings) -> int:
    now = datetime.now(UTC)
    store = open_store(args, settings)
    try:
        status = collect(store, now=now, publishing=kubo_url(args, settings) is not None)
    finally:
        store.close()
    directory = record_dir(settings)
    deployment = load_deployment(directory) if directory else None
    chain_info: dict[str, Any] = {"height": None, "detail": "pass --rpc URL to read the chain"}
    try:
        with read_only_chain(args, settings, deployment) as chain:
            if chain is not None:
                chain_info = {"height": chain.block_number(), "chain_id": chain.chain_id,
                              "detail": chain.rpc_url}  # fmt: skip
    except LedgerError as exc:
        chain_info = {"height": None, "detail": f"unavailable: {exc.message}"}
    status["chain"] = chain_info
    if args.json:
        print(json.dumps({"format": "carbonledger-cli-status/1", **status}, indent=2,
                         sort_keys=True))  # fmt: skip
        return EXIT_OK
    last = status["last_batch"]
    rows: list[tuple[str, Any]] = [
        ("pending", status["pending"]),
        ("batched", status["records"]["batched"]),
        ("anchored", status["records"]["anchored"]),
        ("batches", ", ".join(f"{k} {v}" for k, v in sorted(status["batches"].items())) or "none"),
        ("last batch", "none" if last is None else
         f"{last['seq']} {last['state']} ({last['leaf_count']} records)"
         + (f" tx {last['tx_hash']} block {last['block']}" if last["tx_hash"] else "")
         + (f" error: {last['last_error']}" if last["last_error"] else "")),
        ("lag", "none" if status["lag_s"] is None else f"{status['lag_s']} s (oldest unanchored)"),
        ("chain height", chain_info["height"] if chain_info["height"] is not None
         else chain_info["detail"]),
    ]  # fmt: skip
    if status["unpublished"] is not None:
        rows.append(("unpublished", f"{status['unpublished']} manifests wait for the Kubo node"))
    for purpose, label in (("revoke", "revocations"), ("supersede", "supersessions")):
        counts = status["statuses"][purpose]
        if any(counts.values()):
            rows.append(
                (
                    label,
                    f"{counts['mined']} on-chain, {counts['pending']} waiting, "
                    f"{counts['broadcast']} in flight, {counts['failed']} refused",
                )
            )
    follower = status["follower"]
    rows.append((
        "follower",
        "not started" if follower is None
        else f"block {follower['block']} ({follower['lag_blocks']} behind the head)",
    ))  # fmt: skip
    rows.append(("alerts", len(status["alerts"])))
    print_rows(rows)
    for alert in status["alerts"]:
        print(f"  [{alert['kind']}] {alert['raised_at']}: {alert['message']}")
    if status["closed_alerts"]:
        print(f"closed (last {CLOSED_SHOWN})")
        for alert in status["closed_alerts"]:
            print(f"  [{alert['kind']}] {alert['raised_at']} .. {alert['resolved_at']}")
    return EXIT_OK
