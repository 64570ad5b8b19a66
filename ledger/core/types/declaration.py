"""`equivalence-declaration` body (docs/RECORDS.md §3.10).

A caliber-equivalence declaration for one conversion: the SHA-256 of each rendered file
of the declaration (English and Chinese between them) and the accredited body that
signed it. The signing body is the record's producer (it signs with its own registered
key); `signing_body` names its accreditation.
"""

from __future__ import annotations

from typing import Any

from ledger.core.types import fields as f
from ledger.core.types.carbon import BodyLink

LANGUAGES = ("en", "zh")


def _documents(value: Any, path: str) -> None:
    covered: set[str] = set()
    hashes: list[str] = []
    for i, item in enumerate(f.array(value, path, min_items=1, max_items=10)):
        p = f.sub(path, i)
        o = f.obj(item, p, ("name", "media_type", "size", "sha256", "languages"))
        f.text(o["name"], f.sub(p, "name"), max_len=256)
        f.matching(o["media_type"], f.sub(p, "media_type"), f.MEDIA_TYPE_RE, "a media type")
        f.integer(o["size"], f.sub(p, "size"), lo=1, hi=2**53 - 1)
        hashes.append(f.sha256_hex(o["sha256"], f.sub(p, "sha256")))
        l_path = f.sub(p, "languages")
        languages = [
            f.enum(lang, f.sub(l_path, j), LANGUAGES)
            for j, lang in enumerate(f.array(o["languages"], l_path, min_items=1, max_items=2))
        ]
        f.unique(languages, l_path, "language")
        covered.update(languages)
    f.unique(hashes, path, "document hash")
    missing = [lang for lang in LANGUAGES if lang not in covered]
    if missing:
        raise f.fail(path, f"the declaration is bilingual: no document in {missing[0]!r}")


def validate_declaration_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(body, path, ("conversion", "region", "documents", "signing_body"))
    conv_id, conv_digest = f.link(o["conversion"], f.sub(path, "conversion"))
    f.text(o["region"], f.sub(path, "region"), max_len=64)
    _documents(o["documents"], f.sub(path, "documents"))
    s_path = f.sub(path, "signing_body")
    signer = f.obj(
        o["signing_body"],
        s_path,
        ("name", "scheme", "accreditation_body", "accreditation_number"),
    )
    for key in ("name", "scheme", "accreditation_body", "accreditation_number"):
        f.text(signer[key], f.sub(s_path, key), max_len=256)
    return [("source", conv_id, conv_digest, f.sub(path, "conversion"))]
