"""The checks ``carbon-verify bundle`` runs (docs/VERIFY.md §4), as a library.

``verify_bundle(data, reader=..., pins=...)`` parses the bundle bytes strictly and runs
the numbered checks for the bundle and for every record in it (items and closure
alike: a figure is only as good as the records it is recomputed from). Everything that
can be decided offline is; everything that needs the chain is read through a
``ChainFacts`` at the pinned chain id and registry addresses. Chain facts that belong to
a batch (root, leaf count, manifest digest, anchoring transaction, depth) are checked
once per batch and the verdict shared by its records.

Nothing here raises for bad input: a bundle that cannot be read is check 1 FAIL with
``unreadable`` set; a chain that cannot answer turns the checks that need it UNKNOWN.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from ledger.core.bundle import Bundle, BundleItem, parse_bundle
from ledger.core.canonical import format_timestamp
from ledger.core.collector import collector_paused
from ledger.core.errors import LedgerError, UnavailableError, VerificationError
from ledger.core.merkle import verify_inclusion
from ledger.core.records import Record, validate_record
from ledger.core.view import RedactedView, reconstruct, verify_view
from verifier.anchor import check_batch, check_chain, check_code, check_log
from verifier.authority import check_standing
from verifier.chain import ChainFacts
from verifier.claims import claims_section
from verifier.documents import check_files
from verifier.facts import Body, Wanted
from verifier.model import Check, Outcome, Pins, Status, Verification
from verifier.order import check_canonical_order
from verifier.receipts import check_receipts, receipt_signature_error
from verifier.recompute import recompute
from verifier.terminals import READING_TYPE, check_signatures, stated_terminal
from verifier.workers import map_slices

__all__ = ["Entry", "verify_bundle"]

Progress = Callable[[int, int], None]


@dataclass
class Entry:
    """One record of the bundle with what the offline checks learnt about it. A full
    record is validated against its type at the first question about it (``record``,
    ``form_error``): in the worker that checks it when the records are checked in
    processes, once per process for a record others refer to."""

    subject: str
    item: BundleItem
    raw: dict[str, object]
    record_id: str | None
    _form: tuple[Record | None, str | None] | None = field(default=None, repr=False)

    @property
    def record(self) -> Record | None:
        return self._validated()[0]

    @property
    def form_error(self) -> str | None:
        return self._validated()[1]

    def _validated(self) -> tuple[Record | None, str | None]:
        if self._form is None:
            record: Record | None = None
            error = None
            # A redacted view that hides nothing discloses the whole record (bundles of
            # the first version carried reference data so): it is read like a full one.
            view = self.item.view
            if not isinstance(view, RedactedView) or not view.hidden:
                try:
                    # Owned: parsed from this bundle alone, and no check changes a record
                    # (the private copy would cost a third of the validation).
                    record = validate_record(self.raw, owned=True)
                except LedgerError as exc:
                    error = exc.message
            self._form = (record, error)
        return self._form

    @property
    def record_type(self) -> str | None:
        value = self.raw.get("type")
        return value if isinstance(value, str) else None

    @property
    def hides(self) -> bool:
        """Whether the view withholds any field (a redacted view with hidden field hashes)."""
        view = self.item.view
        return isinstance(view, RedactedView) and bool(view.hidden)


def _entries(bundle: Bundle) -> list[Entry]:
    out = []
    for group, items in (("items", bundle.items), ("closure", bundle.closure)):
        for i, item in enumerate(items):
            raw = reconstruct(item.view)
            rid = raw.get("id")
            out.append(Entry(f"{group}[{i}]", item, raw, rid if isinstance(rid, str) else None))
    return out


class _Run:
    def __init__(self, bundle: Bundle, reader: ChainFacts, pins: Pins, out: Verification) -> None:
        self.bundle = bundle
        self.reader = reader
        self.pins = pins
        self.out = out
        self.chain_problem: Check | None = None  # why chain checks cannot run
        self.batch_verdicts: dict[int, Outcome] = {}
        self.successors: dict[str, list[str]] = {}
        self.ids: dict[bytes, str] = {}

    def index(self, entries: list[Entry]) -> None:
        for other in entries:
            if other.record_id is not None:
                self.ids[other.item.digest] = other.record_id
            refs = other.raw.get("refs")
            for ref in refs if isinstance(refs, list) else ():
                if isinstance(ref, dict) and ref.get("rel") == "supersedes":
                    why = ref.get("reason", "no reason given")
                    self.successors.setdefault(str(ref.get("digest")), []).append(
                        f"{other.record_id} ({why})"
                    )

    def on_chain(
        self,
        number: int,
        entry: Entry | None,
        fn: Callable[[], Outcome],
        *,
        subject: str | None = None,
    ) -> Check:
        """Run a chain-reading check about ``entry`` (or ``subject``, default the bundle):
        FAIL when an answer is provably not the chain's, UNKNOWN when the node fails, SKIP
        after a pin failed."""
        subject = entry.subject if entry else (subject or "bundle")
        rid = entry.record_id if entry else None
        if self.chain_problem is not None:
            status = Status.UNKNOWN if self.chain_problem.status is Status.UNKNOWN else Status.SKIP
            reason = f"not read: {self.chain_problem.reason}"
            return self.out.add(Check(number, status, reason, subject, rid))
        try:
            outcome = fn()
        except UnavailableError as exc:
            check = Check(number, Status.UNKNOWN, exc.message, subject, rid)
            self.chain_problem = check
            return self.out.add(check)
        except VerificationError as exc:
            # An answer provably not the chain's (a proof that does not fold, endpoints
            # that disagree): this check fails, naming the endpoint.
            return self.out.add(Check(number, Status.FAIL, exc.message, subject, rid))
        details = outcome[2] if len(outcome) == 3 else None
        return self.out.add(Check(number, outcome[0], outcome[1], subject, rid, details=details))


def verify_bundle(
    data: bytes,
    *,
    reader: ChainFacts,
    pins: Pins,
    files: Sequence[tuple[str, str]] = (),
    progress: Progress | None = None,
    jobs: int = 1,
) -> Verification:
    """Verify bundle bytes against the pinned chain. ``files`` are (name, sha256 hex)
    pairs of local documents to find among the bundle's archive records (check 12).
    ``jobs`` > 1 checks the records in that many processes (:mod:`verifier.workers`)
    when the reader can prove every planned fact first; the result is the same."""
    with collector_paused():
        return _verify(data, reader=reader, pins=pins, files=files, progress=progress, jobs=jobs)


def _verify(
    data: bytes,
    *,
    reader: ChainFacts,
    pins: Pins,
    files: Sequence[tuple[str, str]],
    progress: Progress | None,
    jobs: int,
) -> Verification:
    out = Verification(bundle_sha256=hashlib.sha256(data).hexdigest())
    try:
        bundle = parse_bundle(data, require_canonical=True)
        check_canonical_order(bundle)
    except LedgerError as exc:
        out.unreadable = True
        out.add(Check(1, Status.FAIL, f"not a readable bundle: {exc.message}"))
        return out
    entries = _entries(bundle)
    out.record_count = len(entries)
    out.add(
        Check(
            1,
            Status.PASS,
            f"{bundle.format}, {len(bundle.items)} items, {len(bundle.closure)} closure records, "
            f"{len(bundle.batches)} batches",
        )
    )
    run = _Run(bundle, reader, pins, out)
    chain_check = check_chain(bundle, reader, pins)
    out.add(chain_check)
    if chain_check.status is not Status.PASS:
        run.chain_problem = chain_check
    else:
        out.head_block = reader.at_block
        out.trust_registry = reader.trust_address
    reader.plan(_wanted(bundle, entries))
    run.on_chain(3, None, lambda: check_code(reader, pins))
    by_digest = {e.item.digest: e for e in entries}
    run.index(entries)
    signature_errors = _all_records(run, entries, by_digest, jobs=jobs, progress=progress)
    check_receipts(
        bundle,
        entries,
        reader=reader,
        pins=pins,
        out=out,
        on_chain=run.on_chain,
        signature_errors=signature_errors,
    )
    for seq, header in sorted(bundle.batches.items()):
        run.on_chain(14, None, partial(check_log, reader, seq, header), subject=f"batches.{seq}")
    if files:
        out.checks.extend(check_files(files, entries, out))
    out.claims = claims_section(entries)
    return out


def _all_records(
    run: _Run,
    entries: list[Entry],
    by_digest: dict[bytes, Entry],
    *,
    jobs: int,
    progress: Progress | None,
) -> dict[int, str | None] | None:
    """The record checks (4 to 11) of every entry, in entry order: in ``jobs`` processes
    when every planned chain fact could be proven here first (the workers then read no
    chain), alone otherwise. In processes, the workers also verify the receipts'
    signatures, returned (receipt index -> error or None) for check 13. A worker that met
    an unanswered chain read (an UNKNOWN: the order of such answers decides the reasons
    that follow) makes the run start again alone, so that ``--jobs`` never changes a
    report."""
    if jobs > 1 and run.chain_problem is None and _prove_planned(run.reader):
        receipts = run.bundle.receipts or ()
        service = run.bundle.service

        def slice_of(start: int, stop: int) -> tuple[list[Check], dict[int, str | None]]:
            mark = len(run.out.checks)
            for entry in entries[start:stop]:
                _record_checks(run, entry, by_digest)
            errors = {
                i: receipt_signature_error(receipts[i], service.public_key)
                for i in range(start, min(stop, len(receipts)))
                if service is not None
            }
            return run.out.checks[mark:], errors

        total = max(len(entries), len(receipts))
        parts = map_slices(slice_of, total, jobs=jobs, progress=progress)
        if parts is not None and all(
            c.status is not Status.UNKNOWN for checks, _ in parts for c in checks
        ):
            signature_errors: dict[int, str | None] = {}
            for checks, errors in parts:
                run.out.checks.extend(checks)
                signature_errors.update(errors)
            return signature_errors
    for n, entry in enumerate(entries):
        _record_checks(run, entry, by_digest)
        if progress is not None:
            progress(n + 1, len(entries))
    return None


def _prove_planned(reader: ChainFacts) -> bool:
    """Whether ``reader`` proved (or disproved) every fact of its plan now: only a reader
    that can (``ProvenReader.prove_planned``) and whose endpoints all answered."""
    prove = getattr(reader, "prove_planned", None)
    return bool(prove()) if prove is not None else False


def _wanted(bundle: Bundle, entries: list[Entry]) -> Wanted:
    """Every chain fact the checks will ask about this bundle."""
    wanted = Wanted(anchors=dict(bundle.batches))
    for e in entries:
        key_id = bytes.fromhex(e.item.signature.key_id)
        wanted.key_ids.add(key_id)
        wanted.digests.add(e.item.digest)
        if e.record_type is not None:
            wanted.grants.add((key_id, e.record_type))
        if e.record_type == READING_TYPE:
            _want_terminal(wanted, e)
    return wanted


def _want_terminal(wanted: Wanted, entry: Entry) -> None:
    """The terminal facts check 5 asks about a meter-reading batch (when its view states
    them): the terminal's key, its ``meter-reading`` grant and its metering point's."""
    body = entry.raw.get("body")
    terminal = stated_terminal(body) if isinstance(body, dict) else None
    if terminal is None:
        return
    key_id = bytes.fromhex(terminal[0].key_id)
    wanted.terminal_key_ids.add(key_id)
    wanted.grants.add((key_id, READING_TYPE))
    wanted.points.add((key_id, terminal[1]))


def _record_checks(run: _Run, entry: Entry, by_digest: dict[bytes, Entry]) -> None:
    item, subject, rid, add = entry.item, entry.subject, entry.record_id, run.out.add
    # 4: the view recomputes to the digest, and a full record conforms to its type.
    try:
        verify_view(item.view, item.digest.hex())
        if entry.form_error is not None:
            add(
                Check(
                    4,
                    Status.FAIL,
                    f"digest recomputes but the record is malformed: {entry.form_error}",
                    subject,
                    rid,
                )
            )
        else:
            kind = (
                "redacted view: disclosures + hidden field hashes"
                if item.is_redacted
                else "full view"
            )
            add(
                Check(
                    4, Status.PASS, f"{item.digest.hex()[:16]}… recomputes ({kind})", subject, rid
                )
            )
    except VerificationError as exc:
        add(
            Check(
                4,
                Status.FAIL,
                f"{exc.message}: look at {subject}.view",
                subject,
                rid,
                {"expected": exc.expected, "computed": exc.computed},
            )
        )
    except LedgerError as exc:
        add(Check(4, Status.FAIL, exc.message, subject, rid))
    # 5: signature under a key the TrustRegistry held valid for this producer at issue time
    # (and a meter-reading batch's terminal signatures under the terminal's registered key).
    run.on_chain(5, entry, lambda: check_signatures(run.reader, entry))
    # 6: the proof leads from the digest's leaf to the batch root the bundle states.
    header = run.bundle.batches[item.batch_seq]
    try:
        verify_inclusion(item.digest, item.proof, header.root)
        add(
            Check(
                6,
                Status.PASS,
                f"{len(item.proof)} hashes to the root of batch {item.batch_seq}",
                subject,
                rid,
            )
        )
    except VerificationError as exc:
        add(
            Check(
                6,
                Status.FAIL,
                f"{exc.message} of batch {item.batch_seq}: look at {subject}.proof",
                subject,
                rid,
                {"expected": exc.expected, "computed": exc.computed},
            )
        )
    except LedgerError as exc:
        add(Check(6, Status.FAIL, exc.message, subject, rid))

    # 7: that root is the contract's for this seq, deep enough (once per batch).
    def batch_verdict() -> Outcome:
        seq = item.batch_seq
        if seq not in run.batch_verdicts:
            run.batch_verdicts[seq] = check_batch(run.reader, run.pins, seq, header)
        return run.batch_verdicts[seq]

    run.on_chain(7, entry, batch_verdict)
    # 8: not revoked on-chain; superseded (on-chain, or by a record of the bundle) warns.
    run.on_chain(8, entry, lambda: check_standing(run.reader, entry, run.successors, run.ids))
    # 9: every reference is in the bundle with the digest the record names.
    _references(run, entry, by_digest)
    # 10: recomputation of stated figures from the referenced records.
    result = recompute(entry, by_digest)
    evidence = None
    if result.status == "FAIL" and (result.stated is not None or result.computed is not None):
        evidence = {"stated": result.stated, "computed": result.computed}
    add(
        Check(
            10,
            Status(result.status),
            result.reason,
            subject,
            rid,
            evidence,
            recomputed=result.recomputed,
        )
    )
    # 11: attestations filed on-chain by accredited bodies.
    region = _target_region(entry, by_digest)
    run.on_chain(11, entry, lambda: _attestations(run.reader, entry, region))


def _references(run: _Run, entry: Entry, by_digest: dict[bytes, Entry]) -> None:
    refs = entry.raw.get("refs")
    subject, rid = entry.subject, entry.record_id
    if not isinstance(refs, list) or any(not isinstance(r, dict) for r in refs):
        run.out.add(Check(9, Status.SKIP, "references hidden in this view", subject, rid))
        return
    missing = []
    for i, ref in enumerate(refs):
        digest_hex, ref_id = ref.get("digest"), ref.get("id")
        target = None
        if isinstance(digest_hex, str) and len(digest_hex) == 64:
            try:
                target = by_digest.get(bytes.fromhex(digest_hex))
            except ValueError:
                target = None
        if target is None:
            missing.append(
                f"refs[{i}] {ref.get('rel')} {ref_id} ({str(digest_hex)[:16]}…) "
                "is not in the bundle"
            )
        elif target.record_id is not None and target.record_id != ref_id:
            missing.append(
                f"refs[{i}] names {ref_id} but the bundle's record with that digest "
                f"is {target.record_id}"
            )
    if missing:
        run.out.add(Check(9, Status.FAIL, "; ".join(missing), subject, rid))
    elif refs:
        run.out.add(
            Check(
                9,
                Status.PASS,
                f"{len(refs)} references present with matching digests",
                subject,
                rid,
            )
        )
    else:
        run.out.add(Check(9, Status.PASS, "no references", subject, rid))


_VERDICTS = {1: "conforms", 2: "conforms with findings", 3: "does not conform"}


def _target_region(entry: Entry, by_digest: dict[bytes, Entry]) -> str | None:
    """The region a record is bound for: a risk assessment's or a declaration's
    ``region``, a conversion's rule's (the rule found in the bundle by its digest)."""
    body = entry.raw.get("body")
    if not isinstance(body, dict):
        return None
    if entry.record_type in ("risk-assessment", "equivalence-declaration"):
        region = body.get("region")
        return region if isinstance(region, str) else None
    if entry.record_type != "factor-substitution":
        return None
    link = body.get("rule")
    digest_hex = link.get("digest") if isinstance(link, dict) else None
    if not isinstance(digest_hex, str) or len(digest_hex) != 64:
        return None
    try:
        rule = by_digest.get(bytes.fromhex(digest_hex))
    except ValueError:
        return None
    rule_body = rule.raw.get("body") if rule is not None else None
    region = rule_body.get("region") if isinstance(rule_body, dict) else None
    return region if isinstance(region, str) else None


def _recognition(body: Body | None, region: str, at: int) -> tuple[bool, str]:
    """Whether ``body`` recognises ``region`` at ``at`` (its accreditation's regions,
    validity and withdrawal as the TrustRegistry holds them), and the words for it."""
    if body is None:
        return False, f"not recognised for {region}: not accredited"
    regions = [r.strip() for r in body.regions.split(",") if r.strip()]
    if region not in regions:
        return False, f"not recognised for {region} (regions {', '.join(regions) or 'none'})"
    if body.withdrawn or not body.valid_from <= at < body.valid_until:
        return False, f"not recognised for {region}: accreditation not in force when filed"
    return True, f"recognised for {region}"


def _attestations(reader: ChainFacts, entry: Entry, region: str | None = None) -> Outcome:
    found = reader.attestations(entry.item.digest)
    if not found:
        return Status.SKIP, "no attestation filed on-chain"
    parts = []
    filed = []
    worst = Status.PASS
    for a in found:
        body = reader.body(a.body)
        name = body.name if body is not None else "unknown body"
        verdict = _VERDICTS.get(a.verdict, f"verdict {a.verdict}")
        if a.verdict == 3:
            worst = Status.WARN
        recognised = ""
        if region is not None:
            ok, words = _recognition(body, region, a.timestamp)
            recognised = f", {words}"
            if not ok:
                worst = Status.WARN
        parts.append(f"{name} ({a.body}, {verdict}, block {a.block_number}{recognised})")
        filed.append(
            {
                "body": a.body,
                "name": body.name if body is not None else None,
                "verdict": a.verdict,
                "report_digest": a.report_digest.hex(),
                "block_number": a.block_number,
                "filed_at": format_timestamp(datetime.fromtimestamp(a.timestamp, UTC)),
            }
        )
    return worst, f"{len(found)} filed: " + "; ".join(parts), {"attestations": filed}
