"""`meter-reading` body: a batch of interval readings of one metering point, each signed by
the collection terminal that measured it (docs/RECORDS.md §3.12; the signed bytes are
docs/FORMAT.md §3.3, ``ledger.core.readings``).

Validation here is syntactic and cheap (it runs on every read): the terminal's key must be
a key of its scheme in canonical encoding and every signature 64 bytes of hex, but no
signature is verified; :func:`ledger.core.readings.verify_readings` does that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.core import keys, sm2
from ledger.core.calc import units
from ledger.core.errors import MalformedError
from ledger.core.types import fields as f
from ledger.core.types.carbon import BodyLink

#: The most readings one batch carries: a month of quarter-hourly readings fits.
MAX_READINGS = 4000
_KEY_BYTES = {
    keys.ALG_ED25519: keys.ED25519_KEY_BYTES,
    keys.ALG_SM2_SM3: sm2.UNCOMPRESSED_KEY_BYTES,
}


def whole_second(value: Any, path: str) -> datetime:
    """An RFC 3339 UTC timestamp without a fraction: interval bounds are compared exactly,
    so they never carry digits the comparison could not see."""
    moment = f.timestamp(value, path)
    if "." in value:
        raise f.fail(path, f"expected a timestamp in whole seconds, got {value!r}")
    return moment


def validate_interval(o: Any, path: str) -> tuple[datetime, datetime]:
    """``{start, end}`` in whole seconds, end (exclusive) after start."""
    start = whole_second(o["start"], f.sub(path, "start"))
    end = whole_second(o["end"], f.sub(path, "end"))
    if end <= start:
        raise f.fail(f.sub(path, "end"), "the end (exclusive) must come after the start")
    return start, end


def fixed_hex(value: Any, path: str, n_bytes: int) -> str:
    """Exactly ``n_bytes`` bytes written as lowercase hex."""
    s = f.text(value, path, max_len=4 * n_bytes)
    if len(s) != 2 * n_bytes or not f.LOWER_HEX_RE.fullmatch(s):
        raise f.fail(path, f"expected {n_bytes} bytes as {2 * n_bytes} lowercase hex digits")
    return s


def validate_terminal(value: Any, path: str) -> keys.PublicKey:
    """The collection terminal: its identifier and the public key its readings verify under.

    The key is written in its scheme's canonical encoding (docs/FORMAT.md §3), so one key
    has one spelling; an SM2 key names the distinguishing identifier it signs under.
    """
    o = f.obj(value, path, ("id", "alg", "public_key"), ("distinguishing_id",))
    f.identifier(o["id"], f.sub(path, "id"))
    alg = f.enum(o["alg"], f.sub(path, "alg"), keys.SIGNATURE_ALGS)
    k_path = f.sub(path, "public_key")
    raw_hex = fixed_hex(o["public_key"], k_path, _KEY_BYTES[alg])
    if alg == keys.ALG_SM2_SM3 and not raw_hex.startswith("04"):
        raise f.fail(k_path, "expected the uncompressed SM2 key 04 || x || y")
    ident: bytes | None = None
    id_path = f.sub(path, "distinguishing_id")
    if alg == keys.ALG_SM2_SM3:
        if "distinguishing_id" not in o:
            raise f.fail(id_path, "missing required field for an sm2-sm3 key")
        text = f.text(o["distinguishing_id"], id_path, max_len=sm2.MAX_DISTINGUISHING_ID_BYTES)
        try:
            ident = text.encode("utf-8")
        except UnicodeEncodeError:
            raise f.fail(id_path, "expected text without lone surrogates") from None
        if len(ident) > sm2.MAX_DISTINGUISHING_ID_BYTES:
            raise f.fail(id_path, f"expected at most {sm2.MAX_DISTINGUISHING_ID_BYTES} bytes")
    elif "distinguishing_id" in o:
        raise f.fail(id_path, "an ed25519 key has no distinguishing identifier")
    try:
        return keys.public_key(
            alg,
            bytes.fromhex(raw_hex),
            distinguishing_id=ident,
        )
    except MalformedError as exc:
        raise f.fail(k_path, exc.reason) from None


def validate_meter_reading_body(body: Any, path: str, subject: str) -> list[BodyLink]:
    o = f.obj(
        body, path, ("metering_point", "terminal", "field", "unit", "readings"), ("template",)
    )
    mp_path = f.sub(path, "metering_point")
    point = f.identifier(o["metering_point"], mp_path).canonical
    if subject != point:
        raise f.fail("subject", "expected the metering point of body.metering_point")
    validate_terminal(o["terminal"], f.sub(path, "terminal"))
    f.matching(o["field"], f.sub(path, "field"), f.SLUG_RE, "a field key like 'electricity_import'")
    f.enum(o["unit"], f.sub(path, "unit"), units.UNITS)
    links: list[BodyLink] = []
    if "template" in o:
        template_id, digest = f.link(o["template"], f.sub(path, "template"))
        links.append(("template", template_id, digest, f.sub(path, "template")))
    r_path = f.sub(path, "readings")
    previous_end: datetime | None = None
    for i, item in enumerate(f.array(o["readings"], r_path, min_items=1, max_items=MAX_READINGS)):
        p = f.sub(r_path, i)
        reading = f.obj(item, p, ("start", "end", "quantity", "signature"))
        start, end = validate_interval(reading, p)
        # One metering point measures each moment once: the readings of a batch are in
        # time order and never overlap (docs/RECORDS.md §3.12).
        if previous_end is not None and start < previous_end:
            raise f.fail(
                f.sub(p, "start"),
                "overlaps or precedes the previous reading: readings are in time order "
                "and never overlap",
            )
        previous_end = end
        f.decimal(reading["quantity"], f.sub(p, "quantity"), non_negative=True)
        fixed_hex(reading["signature"], f.sub(p, "signature"), sm2.SIGNATURE_BYTES)
    return links
