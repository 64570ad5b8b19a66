"""Check 12: a local document (a BIM model, an inspection report, a carbon-efficiency
evaluation report, an equivalence declaration's PDF or HTML) is the one a record anchors:
its SHA-256 equals a ``body.documents[*].sha256`` of a ``bim-archive``,
``carbon-efficiency`` or ``equivalence-declaration`` record in the bundle, and that record
verified (for a declaration, that includes its signer's key and type grant in the
TrustRegistry).

Files are hashed in bounded chunks, never read whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verifier.model import Check, Status, Verification

if TYPE_CHECKING:
    from verifier.checks import Entry

__all__ = ["check_files", "file_sha256"]

_CHUNK = 1 << 20
#: The record types whose ``body.documents`` anchor files (docs/RECORDS.md §3.7, §3.10,
#: §3.16).
DOCUMENT_TYPES = ("bim-archive", "carbon-efficiency", "equivalence-declaration")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, lowercase hex (raises OSError when unreadable)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _documents(raw: dict[str, Any]) -> Iterable[tuple[int, dict[str, Any]]]:
    body = raw.get("body")
    docs = body.get("documents") if isinstance(body, dict) else None
    if isinstance(docs, list):
        for i, doc in enumerate(docs):
            if isinstance(doc, dict):
                yield i, doc


def check_files(
    files: Sequence[tuple[str, str]], entries: Sequence[Entry], out: Verification
) -> list[Check]:
    bad_subjects = {c.subject for c in out.checks if c.status in (Status.FAIL, Status.UNKNOWN)}
    checks = []
    for name, digest_hex in files:
        hits = []
        for entry in entries:
            if entry.record_type not in DOCUMENT_TYPES:
                continue
            for i, doc in _documents(entry.raw):
                if doc.get("sha256") == digest_hex:
                    hits.append((entry, i, doc))
        if not hits:
            checks.append(
                Check(
                    12,
                    Status.FAIL,
                    f"{name}: SHA-256 {digest_hex} is not among the documents of any archive "
                    "record, evaluation or declaration in the bundle (a public view hides "
                    "them: ask for the regulator view)",
                    subject=f"file {name}",
                )
            )
            continue
        entry, i, doc = hits[0]
        where = f"{entry.subject}.body.documents[{i}] ({doc.get('name')}) of {entry.record_id}"
        if entry.subject in bad_subjects:
            checks.append(
                Check(
                    12,
                    Status.FAIL,
                    f"{name} matches {where}, but that record did not verify",
                    subject=f"file {name}",
                )
            )
        else:
            checks.append(Check(12, Status.PASS, f"{name} matches {where}", subject=f"file {name}"))
    return checks
