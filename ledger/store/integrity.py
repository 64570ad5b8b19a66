"""Consistency checks over the stored lifecycle (an fsck: re-derive what must hold from the
stored rows and report every difference).

These complement the database's own checks (SQLite ``PRAGMA integrity_check``): the
constraints keep each row valid, these look across rows.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

# (description, query returning one identifying value per offending row)
_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "batch leaf_count differs from its stored leaves",
        "SELECT b.seq FROM batches b LEFT JOIN batch_leaves l ON l.batch_seq = b.seq"
        " GROUP BY b.seq, b.leaf_count HAVING count(l.leaf_index) <> b.leaf_count",
    ),
    (
        "batch leaf indices are not 0..leaf_count-1",
        "SELECT l.batch_seq FROM batch_leaves l JOIN batches b ON b.seq = l.batch_seq"
        " WHERE l.leaf_index >= b.leaf_count",
    ),
    (
        "record is batched but its digest is not a leaf of its batch",
        "SELECT r.record_id FROM records r LEFT JOIN batch_leaves l"
        " ON l.digest_hex = r.digest_hex AND l.batch_seq = r.batch_seq"
        " WHERE r.status <> 'pending' AND l.digest_hex IS NULL",
    ),
    (
        "leaf digest belongs to a record that is still pending or in another batch",
        "SELECT l.digest_hex FROM batch_leaves l JOIN records r ON r.digest_hex = l.digest_hex"
        " WHERE r.batch_seq IS NULL OR r.batch_seq <> l.batch_seq",
    ),
    (
        "record is anchored but its batch is not",
        "SELECT r.record_id FROM records r JOIN batches b ON b.seq = r.batch_seq"
        " WHERE r.status = 'anchored' AND b.state <> 'anchored'",
    ),
    (
        "batch is anchored but some of its records are not",
        "SELECT r.record_id FROM records r JOIN batches b ON b.seq = r.batch_seq"
        " WHERE r.status = 'batched' AND b.state = 'anchored'",
    ),
    (
        "anchored batch lacks its transaction or block",
        "SELECT seq FROM batches WHERE state = 'anchored'"
        " AND (tx_hash IS NULL OR anchored_block_number IS NULL)",
    ),
    (
        "batch numbers have a gap (the contract's sequence has none)",
        "SELECT b.seq FROM batches b WHERE b.seq > 1"
        " AND NOT EXISTS (SELECT 1 FROM batches p WHERE p.seq = b.seq - 1)",
    ),
)

MAX_REPORTED = 20


def lifecycle_problems(connection: Connection) -> list[str]:
    """One line per offending row (at most ``MAX_REPORTED`` per check); ``[]`` when sound."""
    problems: list[str] = []
    for description, query in _CHECKS:
        rows = connection.execute(text(query)).fetchmany(MAX_REPORTED)
        problems += [f"{description}: {row[0]}" for row in rows]
    return problems
