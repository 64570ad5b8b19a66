"""Translation of database errors into the ledger's error tree (``ledger.core.errors``).

- a constraint violation → ``ConstraintError`` (a ``ConflictError``) naming the constraint,
  with the sentence of ``CONSTRAINT_MESSAGES`` as its message;
- a busy/locked SQLite database, a full disk, an I/O error, a lost or refused PostgreSQL
  connection → ``UnavailableError`` (retryable: the API answers 503 with Retry-After);
- anything else the database reports → ``StorageError``.

The driver's own text ("UNIQUE constraint failed: revocations.digest_hex", a server
message naming tables and columns) never becomes the message of the error we raise, since
messages of 4xx errors reach API responses: it is logged here, at INFO, and kept on the
error as ``driver_message`` for whoever logs it.
"""

from __future__ import annotations

import logging

from sqlalchemy import MetaData, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy import exc as sa_exc

from ledger.core.errors import ConflictError, LedgerError, StorageError, UnavailableError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 1.0

#: What each unique or primary-key constraint of the schema means when a write breaks it,
#: in the words a caller of the API reads (tests/store/test_constraint_messages.py checks
#: that every one of the schema has its sentence).
CONSTRAINT_MESSAGES: dict[str, str] = {
    "pk_alerts": "this alert is already recorded",
    "pk_attestations": "this attestation is already recorded",
    "uq_attestations_tx_hash": "an attestation with this transaction hash is already recorded",
    "pk_batches": "a batch with this seq already exists",
    "uq_batches_manifest_digest_hex": "a batch with this manifest already exists",
    "pk_leader_leases": "this leader lock is already held",
    "pk_principals": "a principal with this name already exists",
    "pk_producers": "this producer is already registered",
    "pk_revocations": "this revocation is already recorded",
    "uq_revocations_digest_hex": "a revocation of this record was already requested",
    "uq_revocations_tx_hash": "a revocation with this transaction hash is already recorded",
    "pk_anchor_txs": "this anchor transaction is already recorded",
    "uq_anchor_txs_tx_hash": "an anchor transaction with this hash is already recorded",
    "uq_anchor_txs_mined_batch": "another anchor transaction of this batch is already mined",
    "pk_api_keys": "an API key with this key id already exists",
    "pk_idempotency_keys": "this Idempotency-Key is already claimed",
    "pk_producer_keys": "a producer key with this key id is already registered",
    "uq_producer_keys_public_key_hex": "this public key is already registered",
    "pk_records": "this record is already stored",
    "uq_records_record_id": "a record with this id is already stored",
    "uq_records_digest_hex": "a record with this digest is already stored",
    "pk_batch_leaves": "this leaf position of the batch is already taken",
    "uq_batch_leaves_digest_hex": "this record is already in a batch",
    "pk_record_refs": "this reference of the record is already stored",
    "uq_record_refs_record_pk_position": "this reference of the record is already stored",
    "uq_anchor_txs_mined_target": "another transaction of this change is already mined",
    "pk_accredited_bodies": "this verification body is already recorded",
    "uq_attestations_digest_hex_attestation_index": "this attestation is already recorded",
    "pk_chain_blocks": "this block of the chain is already recorded",
    "pk_chain_cursors": "this chain reader is already recorded",
    "pk_chain_events": "this chain event is already recorded",
    "uq_chain_events_block_number_log_index": "this chain event is already recorded",
    "pk_supersessions": "this supersession is already recorded",
    "uq_supersessions_digest_hex": "a supersession of this record is already recorded",
    "uq_supersessions_tx_hash": "a supersession with this transaction hash is already recorded",
    "pk_producer_key_types": "this record type is already allowed for the key",
    "pk_page_sessions": "this page session already exists",
    "pk_audit_events": "this audit event is already recorded",
    "pk_key_requests": "a key request with this id already exists",
    "pk_access_log": "this access log entry is already recorded",
    "pk_access_requests": "an access request with this id already exists",
    "pk_claims": "this claim is already registered",
    "uq_claims_unit_exclusivity_group": "this unit is already claimed in this group of regimes",
    "pk_deliveries": "this delivery is already recorded",
    "uq_deliveries_message_id": "a delivery with this message id is already recorded",
    "pk_directory_state": "this directory state is already recorded",
    "pk_document_hashes": "this document of the record is already indexed",
    "pk_enterprise_prefixes": "this Handle prefix is already registered",
    "pk_enterprises": "this company is already in the register",
    "pk_equipment": "this item is already in the directory",
    "pk_equipment_identifiers": "this identifier is already indexed",
    "pk_outbox_events": "this event is already queued",
    "uq_outbox_events_kind_key": "this event is already queued",
    "pk_pact_exclusions": "this record is already excluded from the footprints",
    "pk_pact_footprint_keys": "this footprint key is already indexed",
    "pk_pact_footprints": "this footprint is already indexed",
    "uq_pact_footprints_digest_hex": "a footprint of this record is already indexed",
    "uq_pact_footprints_pf_id": "a footprint with this id is already indexed",
    "uq_pact_footprints_record_pk": "a footprint of this record is already indexed",
    "pk_pact_requests": "this footprint request is already recorded",
    "uq_pact_requests_principal_event_key_hex": "this footprint request is already recorded",
    "pk_reading_spans": "the readings of this batch are already recorded",
    "pk_record_facets": "this record is already indexed",
    "pk_subscriptions": "this subscription already exists",
    "pk_terminal_grants": "this grant of the terminal key is already recorded",
    "pk_terminal_keys": "a terminal key with this key id is already registered",
    "uq_terminal_keys_public_key_hex": "this terminal public key is already registered",
}

# SQLite result texts (sqlite.org/rescode.html) that mean "try again later".
_SQLITE_TRANSIENT = (
    "database is locked",
    "database is busy",
    "database table is locked",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
)
# SQLSTATE classes that mean the server or the connection is (temporarily) gone:
# 08 connection exception, 53 insufficient resources (disk full), 57P operator intervention
# (admin shutdown, terminated backend), 40001/40P01 serialization failure and deadlock,
# 55P03 lock not available (lock_timeout, the PostgreSQL side of SQLite's busy timeout).
_PG_TRANSIENT_PREFIXES = ("08", "53", "57P", "40001", "40P01", "55P03")

# Connection failures that retrying will not fix: the operator must change the settings.
_PG_CONFIG_ERRORS = (
    "does not exist",
    "password authentication failed",
    "no pg_hba.conf entry",
)


class ConstraintError(ConflictError):
    """A write broke a uniqueness, foreign-key or check constraint.

    ``constraint`` is the constraint's name as declared in ``ledger.store.models``
    (``uq_records_record_id``, ``uq_batch_leaves_digest_hex``, ``pk_batches`` …), or ``""``
    when the database did not say.
    """

    def __init__(self, message: str, *, constraint: str, driver_message: str = "") -> None:
        super().__init__(message)
        self.constraint = constraint
        self.driver_message = driver_message


def constraint_message(constraint: str) -> str:
    """The sentence for a violation of ``constraint`` (never the driver's text)."""
    known = CONSTRAINT_MESSAGES.get(constraint)
    if known is not None:
        return known
    if constraint.startswith("fk_"):
        return "it refers to something that is not stored"
    if constraint.startswith("ck_"):
        return "a stored value would be out of its allowed range"
    return "it conflicts with stored data"


def _sqlite_constraint(message: str, metadata: MetaData) -> str:
    """Maps SQLite's "UNIQUE constraint failed: t.a, t.b" to the declared constraint name."""
    if "constraint failed:" not in message:
        return ""
    detail = message.split("constraint failed:", 1)[1].strip()
    if message.startswith("CHECK"):
        return detail
    columns = [part.strip() for part in detail.split(",")]
    if not columns or "." not in columns[0]:
        return ""
    table_name = columns[0].split(".", 1)[0]
    names = sorted(c.split(".", 1)[1] for c in columns)
    table = metadata.tables.get(table_name)
    if table is None:
        return ""
    for constraint in table.constraints:
        if not isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
            continue
        cols = sorted(c.name for c in getattr(constraint, "columns", []))
        if cols == names and constraint.name:
            return str(constraint.name)
    for index in table.indexes:
        if index.unique and sorted(c.name for c in index.columns) == names:
            return str(index.name)
    return ""


def _pg_sqlstate(error: BaseException) -> str:
    return str(getattr(error, "sqlstate", "") or "")


def is_transient(error: BaseException) -> bool:
    """True when retrying the whole transaction later may succeed."""
    if isinstance(error, UnavailableError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        orig = error.orig
        state = _pg_sqlstate(orig) if orig is not None else ""
        if state:
            return state.startswith(_PG_TRANSIENT_PREFIXES)
        text = str(orig).lower()
        if any(marker in text for marker in _SQLITE_TRANSIENT):
            return True
        if any(marker in text for marker in _PG_CONFIG_ERRORS):
            return False
        # psycopg raises OperationalError without SQLSTATE when the socket is gone.
        return isinstance(error, sa_exc.OperationalError) and (
            "connection" in text or "server closed" in text or "terminat" in text
        )
    return False


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() if error is not None else ""
    return text.splitlines()[0] if text else type(error).__name__


def map_db_error(error: BaseException, metadata: MetaData) -> LedgerError:
    """The ledger error for a SQLAlchemy/DBAPI error (returned, for the caller to raise)."""
    if isinstance(error, LedgerError):
        return error
    wrapped = getattr(error, "orig", None)
    if isinstance(wrapped, LedgerError):
        # Raised by one of our column types while binding a parameter.
        return wrapped
    if isinstance(error, sa_exc.IntegrityError):
        orig = error.orig
        diag = getattr(orig, "diag", None)
        name = getattr(diag, "constraint_name", None) if diag is not None else None
        constraint = str(name) if name else _sqlite_constraint(str(orig), metadata)
        driver = _first_line(orig)
        log.info("constraint %s violated: %s", constraint or "(unnamed)", driver)
        return ConstraintError(
            constraint_message(constraint), constraint=constraint, driver_message=driver
        )
    if is_transient(error):
        log.info("database unavailable: %s", _first_line(getattr(error, "orig", None) or error))
        return UnavailableError(
            "the database is busy, full or unreachable; retry later",
            retry_after_s=RETRY_AFTER_S,
        )
    if isinstance(error, sa_exc.SQLAlchemyError):
        return StorageError(f"database error: {error}")
    if isinstance(error, OSError):
        log.info("storage unavailable: %s", error)
        return UnavailableError(
            "the storage is unavailable (full, read-only or failing); retry later",
            retry_after_s=RETRY_AFTER_S,
        )
    return StorageError(f"unexpected storage failure: {type(error).__name__}: {error}")
