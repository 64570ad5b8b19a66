"""The chain follower: every registry event, K blocks deep, mirrored into the store.

It reads the events of both registries (docs/CONTRACTS.md §3, §4) from the deployment
block on, in ranges of blocks that are at least K blocks deep (K = the confirmations
setting), and for each range, in one database transaction: stores the events
(``chain_events``), derives the facts the API and the pages read, and moves its cursor:

- ``DigestRevoked``, ``DigestSuperseded``: the record's status (a new ``chain`` row when
  someone wrote it directly on the chain; a pending request it settles otherwise);
- ``AttestationFiled``: the attestation with its body, index and block (an auditor's
  pending note of it is settled; one filed with ``carbon-verify attest`` alone appears);
- ``KeyRegistered``, ``KeyRotated``, ``KeyRevoked``, ``RecordTypeGranted``,
  ``RecordTypeWithdrawn``: the producer keys, their windows and record types (keys of
  producers the store knows);
- ``TerminalKeyRegistered``, ``TerminalKeyRevoked``, ``MeteringPointGranted``,
  ``MeteringPointWithdrawn`` (and the record types granted to a terminal key): every
  collection terminal's key, its window and what it may sign for;
- ``BodyAccredited``, ``AccreditationWithdrawn``: the accredited bodies;
- ``BatchAnchored`` and the role events are stored as events only (the anchorer owns the
  batches).

Restarts resume after the last range committed (the cursor is in the store). Reorgs: a
reorg shallower than K never reaches it; a deeper one (beyond policy) is noticed when the
block it stopped at is no longer canonical: it goes back to the newest block it stopped at
that still is, undoes what it read above it, reads the chain again from there, and re-reads
the current state of every key and body an undone event touched. It runs inside the
anchorer's step (one leader at a time) and records the head it saw, so its lag (head minus
cursor, in blocks) is a store value (``ledger.store.chainmirror.position``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes

from anchoring.chain.base import ArtifactLike, Chain
from anchoring.deployment import DeploymentRecord
from anchoring.fees import StepReport
from anchoring.registry import block_height, canonical_block_hash, rpc
from anchoring.revert import ContractRevertError
from ledger.core.errors import LedgerError, UnavailableError
from ledger.core.reasons import VERDICT_NAMES
from ledger.store import Store, Transaction, chainfacts, chainmirror, terminals
from ledger.store import producers as key_repo
from ledger.store.alerts import alert_once, resolve_alerts
from ledger.store.chainfacts import MinedAt
from ledger.store.chainmirror import NewEvent

log = logging.getLogger(__name__)

#: The cursor's name in the store.
READER = chainmirror.FOLLOWER
#: Ranges read per anchorer step: a long backlog is caught up over several steps.
MAX_RANGES_PER_STEP = 5


# The last second a datetime holds (9999-12-31T23:59:59Z): a uint64 on the chain can lie
# far beyond it, and is read as "no end" where it is an end, as this moment elsewhere.
_LAST_SECOND = 253_402_300_799


#: TrustRegistry terminal key schemes (SCHEME_ED25519, SCHEME_SM2_SM3) by the ledger's names.
_SCHEMES = {1: "ed25519", 2: "sm2-sm3"}


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(min(seconds, _LAST_SECOND), UTC)


def _until(seconds: int) -> datetime | None:
    return None if seconds >= _LAST_SECOND else _moment(seconds)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class Follower:
    """Follows both registries of ``deployment`` into ``store``."""

    def __init__(
        self,
        *,
        store: Store,
        chain: Chain,
        deployment: DeploymentRecord,
        artifacts: Mapping[str, ArtifactLike],
        confirmations: int,
        clock: Callable[[], datetime],
        max_blocks: int = 2000,
    ) -> None:
        self.store = store
        self.chain = chain
        self.confirmations = confirmations
        self.clock = clock
        self.max_blocks = max_blocks
        self.contracts = {
            name: chain.contract(artifacts[name], deployment.address_of(name))
            for name in ("AnchorRegistry", "TrustRegistry")
        }
        self.from_block = min(c.deploy_block for c in deployment.contracts.values())
        # topic0 -> (contract name, event name), from the ABIs.
        self._events: dict[bytes, tuple[str, str]] = {}
        for name in self.contracts:
            for entry in artifacts[name].abi:
                if entry.get("type") == "event":
                    types = ",".join(str(i["type"]) for i in entry.get("inputs", []))
                    self._events[keccak(text=f"{entry['name']}({types})")] = (name, entry["name"])

    # -- one step ---------------------------------------------------------------------

    def step(self, report: StepReport) -> None:
        """Read up to ``MAX_RANGES_PER_STEP`` ranges of K-deep blocks.

        A range that cannot be derived (an event the store refuses) is not skipped: the
        cursor stays before it, an alert says why, and anchoring goes on meanwhile; the
        range is tried again at the next step. An unreachable chain raises as usual.
        """
        try:
            for _ in range(MAX_RANGES_PER_STEP):
                if not self._read_range(report):
                    break
        except UnavailableError:
            raise
        except (LedgerError, ValueError, TypeError, KeyError) as exc:
            log.exception("the chain follower stopped at a range it cannot read")
            with self.store.transaction() as session:
                if alert_once(
                    session,
                    kind="follower_stuck",
                    message=f"the chain follower cannot read its next range of blocks "
                    f"({type(exc).__name__}: {exc}); it tries again at every step, anchoring "
                    "goes on",
                    at=self.clock(),
                ):
                    report.alerts.append("follower_stuck")
            return
        with self.store.transaction() as session:
            resolve_alerts(session, "follower_stuck", at=self.clock())

    def _read_range(self, report: StepReport) -> bool:
        """Read the next range; True when there may be more to read at once."""
        head = block_height(self.chain)
        safe = head - self.confirmations + 1
        with self.store.transaction(readonly=True) as session:
            at = chainmirror.position(session, READER)
        if at is not None and canonical_block_hash(self.chain, at.block_number) != at.block_hash:
            self._rewind(at.block_number, report)
            return True
        start = self.from_block if at is None else at.block_number + 1
        if start > safe:
            if at is not None and at.head_block != head:
                with self.store.transaction() as session:
                    chainmirror.note_head(session, READER, head=head, at=self.clock())
            return False
        end = min(safe, start + self.max_blocks - 1)
        events = self._events_in(start, end)
        end_hash = canonical_block_hash(self.chain, end)
        if end_hash is None:
            return False
        rotated = self._rotated_keys(events)
        with self.store.transaction() as session:
            chainmirror.record_events(session, events)
            for event in events:
                self._apply(session, event, rotated)
            chainmirror.advance(
                session, READER, block_number=end, block_hash=end_hash, head=head, at=self.clock()
            )
        report.followed += len(events)
        return end < safe

    def _events_in(self, start: int, end: int) -> list[NewEvent]:
        addresses = [c.address for c in self.contracts.values()]
        with rpc(self.chain, f"reading the registries' events of blocks {start}..{end}"):
            logs = self.chain.w3.eth.get_logs(
                {"address": addresses, "fromBlock": start, "toBlock": end}
            )
        times: dict[int, tuple[str, int]] = {}
        out: list[NewEvent] = []
        for entry in sorted(logs, key=lambda e: (int(e["blockNumber"]), int(e["logIndex"]))):
            number = int(entry["blockNumber"])
            block_hash = HexBytes(entry["blockHash"]).to_0x_hex()
            if number not in times:
                with rpc(self.chain, f"reading block {number}"):
                    block = self.chain.w3.eth.get_block(number)
                times[number] = (HexBytes(block["hash"]).to_0x_hex(), int(block["timestamp"]))
            if times[number][0] != block_hash:
                raise UnavailableError(
                    f"block {number} changed while its events were read (a reorg deeper than "
                    f"{self.confirmations} confirmations): reading again",
                    retry_after_s=1.0,
                )
            topics = entry.get("topics") or []
            known = self._events.get(bytes(topics[0])) if topics else None
            if known is None:
                continue
            contract_name, event_name = known
            decoded = getattr(self.contracts[contract_name].events, event_name)().process_log(entry)
            args = {k: _jsonable(v) for k, v in dict(decoded["args"]).items()}
            args["_timestamp"] = times[number][1]
            out.append(
                NewEvent(
                    block_number=number,
                    block_hash=block_hash,
                    log_index=int(entry["logIndex"]),
                    tx_hash=HexBytes(entry["transactionHash"]).to_0x_hex(),
                    contract=contract_name,
                    event=event_name,
                    args=args,
                )
            )
        return out

    def _rotated_keys(self, events: list[NewEvent]) -> dict[str, Any]:
        """The new keys of the rotations among ``events`` (their public key is not in the
        event), read before the database transaction opens."""
        return {
            e.args["newKeyId"]: self._get_key(e.args["newKeyId"])
            for e in events
            if e.event == "KeyRotated"
        }

    def _get_key(self, key_id_hex: str) -> Any:
        trust = self.contracts["TrustRegistry"]
        try:
            with rpc(self.chain, f"reading TrustRegistry.getKey({key_id_hex})"):
                return trust.functions.getKey(bytes.fromhex(key_id_hex)).call()
        except ContractRevertError:
            return None

    # -- deriving the facts ---------------------------------------------------------------

    def _apply(self, session: Transaction, event: NewEvent, rotated: Mapping[str, Any]) -> None:
        a = event.args
        mined = MinedAt(
            tx_hash=event.tx_hash,
            block_number=event.block_number,
            block_hash=event.block_hash,
            at=_moment(int(a["_timestamp"])),
        )
        name = event.event
        if name == "DigestRevoked":
            chainfacts.mirror_revocation(
                session, digest_hex=a["digest"], reason_code=int(a["reasonCode"]),
                reason_digest_hex=a["reasonDigest"], mined=mined,
            )  # fmt: skip
        elif name == "DigestSuperseded":
            chainfacts.mirror_supersession(
                session, digest_hex=a["digest"], successor_hex=a["successor"],
                successor_seq=int(a["successorSeq"]), mined=mined,
            )  # fmt: skip
        elif name == "AttestationFiled":
            chainfacts.mirror_attestation(
                session, digest_hex=a["digest"], body_address=to_checksum_address(a["body"]),
                report_digest_hex=a["reportDigest"],
                verdict=VERDICT_NAMES.get(int(a["verdict"]), str(a["verdict"])),
                index=int(a["index"]), mined=mined,
            )  # fmt: skip
        elif name in ("KeyRegistered", "KeyRotated"):
            new_id = a["keyId"] if name == "KeyRegistered" else a["newKeyId"]
            public = a.get("publicKey")
            if name == "KeyRotated":
                chain_key = rotated.get(new_id)
                public = bytes(chain_key[0]).hex() if chain_key is not None else None
                key_repo.close_key_window(session, a["oldKeyId"], at=_moment(int(a["validFrom"])))
            producer = key_repo.producer_of_id(session, a["producerId"])
            if producer is not None and public is not None:
                key_repo.mirror_key(
                    session, producer=producer, public_key_hex=public,
                    valid_from=_moment(int(a["validFrom"])),
                    valid_until=_until(int(a["validUntil"])),
                    revoked_at=None, tx_hash=event.tx_hash, at=mined.at,
                )  # fmt: skip
        elif name == "KeyRevoked":
            key_repo.mirror_key_revocation(
                session, a["keyId"], effective_at=_moment(int(a["effectiveAt"]))
            )
        elif name == "RecordTypeGranted":
            if key_repo.has_key(session, a["keyId"]):
                key_repo.grant_key_type(
                    session, a["keyId"], a["recordType"], granted_at=_moment(int(a["grantedAt"])),
                    tx_hash=event.tx_hash,
                )  # fmt: skip
            elif terminals.has_terminal_key(session, a["keyId"]):
                terminals.mirror_terminal_grant(
                    session, a["keyId"], "record-type", a["recordType"],
                    granted_at=_moment(int(a["grantedAt"])), tx_hash=event.tx_hash,
                )  # fmt: skip
        elif name == "RecordTypeWithdrawn":
            at = _moment(int(a["withdrawnAt"]))
            key_repo.withdraw_key_type(session, a["keyId"], a["recordType"], at=at)
            terminals.withdraw_terminal_grant(session, a["keyId"], "record-type", a["recordType"],
                                              at=at)  # fmt: skip
        elif name == "TerminalKeyRegistered":
            ident = a["distinguishingId"]
            terminals.mirror_terminal_key(
                session, terminal_id_hex=a["terminalId"], scheme=_SCHEMES[int(a["scheme"])],
                public_key_hex=a["publicKey"], distinguishing_id_hex=ident or None,
                valid_from=_moment(int(a["validFrom"])), valid_until=_until(int(a["validUntil"])),
                tx_hash=event.tx_hash,
            )  # fmt: skip
        elif name == "TerminalKeyRevoked":
            terminals.mirror_terminal_revocation(
                session, a["keyId"], effective_at=_moment(int(a["effectiveAt"]))
            )
        elif name == "MeteringPointGranted":
            if terminals.has_terminal_key(session, a["keyId"]):
                terminals.mirror_terminal_grant(
                    session, a["keyId"], "metering-point", a["meteringPoint"],
                    granted_at=_moment(int(a["grantedAt"])), tx_hash=event.tx_hash,
                )  # fmt: skip
        elif name == "MeteringPointWithdrawn":
            terminals.withdraw_terminal_grant(
                session, a["keyId"], "metering-point", a["meteringPoint"],
                at=_moment(int(a["withdrawnAt"])),
            )  # fmt: skip
        elif name == "BodyAccredited":
            chainmirror.mirror_body(
                session, address=to_checksum_address(a["body"]), name=a["name"],
                scope=a["scope"], regions=a["regions"], valid_from=_moment(int(a["validFrom"])),
                valid_until=_moment(int(a["validUntil"])),
                withdrawn=False, block_number=event.block_number,
            )  # fmt: skip
        elif name == "AccreditationWithdrawn":
            chainmirror.withdraw_body(
                session, to_checksum_address(a["body"]), block_number=event.block_number
            )

    def _refresh_terminal(self, key_id: str) -> None:
        """A terminal key's current window, revocation and grants, read from the chain."""
        trust = self.contracts["TrustRegistry"].functions
        key = bytes.fromhex(key_id)
        try:
            with rpc(self.chain, f"reading TrustRegistry.getTerminalKey({key_id})"):
                chain_key = trust.getTerminalKey(key).call()
        except ContractRevertError:
            return
        grants: dict[tuple[str, str], tuple[datetime, datetime | None]] = {}
        with rpc(self.chain, f"reading what terminal key {key_id} may sign for"):
            for kind, names, read in (
                ("metering-point", trust.meteringPointsOf(key).call(), trust.getMeteringPointGrant),
                ("record-type", trust.recordTypesOf(key).call(), trust.getRecordTypeGrant),
            ):
                for name in names:
                    granted, withdrawn = read(key, name).call()
                    grants[(kind, str(name))] = (
                        _moment(int(granted)),
                        _moment(int(withdrawn)) if int(withdrawn) else None,
                    )
        *_key, until, revoked = chain_key
        with self.store.transaction() as session:
            terminals.refresh_terminal_key(
                session,
                key_id,
                valid_until=_until(int(until)),
                revoked_at=_moment(int(revoked)) if int(revoked) else None,
                grants=grants,
            )

    # -- deep reorgs ------------------------------------------------------------------------

    def _rewind(self, stopped_at: int, report: StepReport) -> None:
        """The block we stopped at left the canonical chain: go back to the newest stopping
        point still canonical (or the deployment), undo and re-read from there."""
        with self.store.transaction(readonly=True) as session:
            points = chainmirror.stopping_points(session, READER)
        fork, fork_hash = self.from_block - 1, ""
        for number, block_hash in points:
            if canonical_block_hash(self.chain, number) == block_hash:
                fork, fork_hash = number, block_hash
                break
        if not fork_hash and fork >= 0:
            fork_hash = canonical_block_hash(self.chain, fork) or ""
        with self.store.transaction() as session:
            undone = chainmirror.rollback_above(
                session, READER, block_number=fork, block_hash=fork_hash, at=self.clock()
            )
            if alert_once(
                session,
                kind="deep_reorg",
                message=f"block {stopped_at} the chain follower had read (K = "
                f"{self.confirmations} deep) left the canonical chain: it reads again from "
                f"block {fork + 1}; {len(undone)} events are read again",
                at=self.clock(),
            ):
                report.alerts.append("deep_reorg")
        log.warning("deep reorg: the follower reads again from block %s", fork + 1)
        self._refresh(undone)

    def _refresh(self, undone: list[NewEvent]) -> None:
        """Re-read the current state of every key an undone event touched: its mirrored
        window, revocation and types may have come from it. (Accredited bodies are read
        again from their events: the mirror keeps only their latest state.)"""
        key_ids = {
            str(e.args.get(k))
            for e in undone
            for k in ("keyId", "newKeyId", "oldKeyId")
            if e.args.get(k)
        }
        trust = self.contracts["TrustRegistry"]
        for key_id in sorted(key_ids):
            chain_key = self._get_key(key_id)
            if chain_key is None:
                self._refresh_terminal(key_id)
                continue
            with rpc(self.chain, f"reading the record types of key {key_id}"):
                names = trust.functions.recordTypesOf(bytes.fromhex(key_id)).call()
                grants = {
                    str(t): trust.functions.getRecordTypeGrant(bytes.fromhex(key_id), t).call()
                    for t in names
                }
            _pub, _producer, _from, until, revoked = chain_key
            with self.store.transaction() as session:
                key_repo.refresh_key(
                    session,
                    key_id,
                    valid_until=_until(int(until)),
                    revoked_at=_moment(int(revoked)) if int(revoked) else None,
                    grants={
                        t: (_moment(int(g[0])), _moment(int(g[1])) if int(g[1]) else None)
                        for t, g in grants.items()
                    },
                )
