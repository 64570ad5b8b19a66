"""The pure shaping of service answers for the templates (api/pages/views.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.pages.views import WITHHELD, differences_of, display_value, path_text, status_of
from ledger.core.view import HIDDEN
from ledger.service.readmodels import RecordState, StoredBatch


def test_paths_and_values_read_as_in_the_docs() -> None:
    assert path_text(("body", "lines", 0, "stage")) == "body.lines[0].stage"
    assert path_text(["a", 1, 2]) == "a[1][2]"
    values: tuple[object, ...] = (None, True, {}, [], {"a": 1}, HIDDEN, "x")
    assert [display_value(v) for v in values] == [
        "null",
        "true",
        "{}",
        "[]",
        "{…}",
        WITHHELD,
        "x",
    ]


def test_difference_rows_from_a_redacted_conversion() -> None:
    record = {
        "body": {
            "differences": [
                {"kind": "stage-removed", "stage": "transport", "legal_ref": "Annex II"},
                {"kind": "factor-replaced", "line_id": "H03"},  # original/replacement withheld
                {"kind": "gwp-changed", "from": "AR6", "to": "AR5"},
                HIDDEN,
            ]
        }
    }
    rows = differences_of(record)
    # The template labels the kind; a withheld before/after is None ("withheld" on the page).
    assert [(r.kind, r.stage, r.line_id, r.before, r.after, r.legal_ref) for r in rows] == [
        ("stage-removed", "transport", None, None, None, "Annex II"),
        ("factor-replaced", None, "H03", None, None, None),
        ("gwp-changed", None, None, "AR6", "AR5", None),
        ("", None, None, None, None, None),
    ]
    assert [r.has_change for r in rows] == [False, True, True, False]
    assert differences_of({}) == [] and differences_of({"body": {"differences": "x"}}) == []


def test_status_of_a_superseded_anchored_record() -> None:
    anchored_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    batch = StoredBatch(
        seq=2,
        state="anchored",
        root_hex="00" * 32,
        leaf_count=1,
        manifest=b"{}",
        manifest_digest_hex="11" * 32,
        manifest_cid="b",
        created_at=anchored_at,
        anchored_at=anchored_at,
        anchored_block_number=12,
        anchored_block_hash="0xcd",
        tx_hash="0xab",
        log_hash_hex=None,
    )
    status = status_of(
        RecordState(
            state="superseded",
            anchoring="anchored",
            batch=batch,
            revocation=None,
            superseded_by=("urn:x:v2",),
            supersedes=None,
            supersession=None,
        )
    )
    at = "2026-03-01T12:00:00Z"
    assert status.state == "superseded" and status.superseded_by == ["urn:x:v2"]
    assert status.anchored == {"seq": "2", "tx": "0xab", "block": "12", "at": at}
    pending = status_of(
        RecordState("pending", "pending", None, None, None, (), None), batch_seq=None
    )
    assert pending.anchored is None and pending.batch_seq is None
