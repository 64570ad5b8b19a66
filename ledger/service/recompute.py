"""Recomputation at acceptance: nothing that does not add up is stored, so nothing false is
anchored (docs/SUBMISSION.md §5, docs/CALC.md §10).

For a record of a type with figures (``ledger.core.figures``) the accept path hands its
inputs, the records its links name, to the same calc/1 check the verifier runs: from
the store, or from earlier submissions of the same bulk. A difference refuses the record
(and with it its whole call) with ``FigureMismatchError``, a ``RefusedRecordError`` that
names the path, the stated and the recomputed value. On top of what a bundle shows, the
store knows which rating is in force: a credit change must follow exactly the latest
accepted rating of its enterprise (or be its first, with ``previous_grade`` null).

Records are immutable, so parsed inputs are cached by digest across calls (``InputCache``):
a bulk of a thousand carbon records quoting the same four factor sets reads and validates
each set once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from typing import Any

from ledger.core.canonical import parse_json
from ledger.core.errors import (
    CalculationMismatchError,
    LedgerError,
    MalformedError,
    StorageError,
    VerificationError,
)
from ledger.core.figures import check_figures, figure_rule, further_inputs
from ledger.core.records import Record, Ref, validate_record
from ledger.core.view import Commitment, parse_view
from ledger.service.submission import ParsedSubmission, RefusedRecordError
from ledger.store import Transaction
from ledger.store.inputs import StoredView, full_views, latest_about

__all__ = ["FigureMismatchError", "InputCache", "Recomputation", "parse_stored"]


class FigureMismatchError(RefusedRecordError):
    """A stated figure differs from the one calc/1 recomputes; ``stated`` and
    ``recomputed`` are the two values (the API puts both in the problem document)."""

    def __init__(
        self, reason: str, *, record_id: str, field: str, index: int, stated: Any, recomputed: Any
    ) -> None:
        super().__init__(
            reason,
            record_id=record_id,
            field=field,
            index=index,
            expected=stated,
            computed=recomputed,
        )
        self.stated = stated
        self.recomputed = recomputed


def _refused(
    p: ParsedSubmission, field: str, reason: str, expected: Any = None, computed: Any = None
) -> RefusedRecordError:
    return RefusedRecordError(
        reason,
        record_id=p.record_id,
        field=field,
        index=p.index,
        expected=expected,
        computed=computed,
    )


class InputCache:
    """Validated input records by digest, at most ``size`` of them (least recently used
    go first). Safe to share between calls: a digest names one record for ever."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._records: OrderedDict[str, Record] = OrderedDict()

    def get(self, digest_hex: str) -> Record | None:
        record = self._records.get(digest_hex)
        if record is not None:
            self._records.move_to_end(digest_hex)
        return record

    def put(self, digest_hex: str, record: Record) -> None:
        self._records[digest_hex] = record
        self._records.move_to_end(digest_hex)
        while len(self._records) > self.size:
            self._records.popitem(last=False)


def parse_stored(stored: StoredView) -> Record:
    try:
        view = parse_view(parse_json(stored.full_view, root="full_view"), path="full_view")
        if not isinstance(view, Commitment):
            raise StorageError(f"record {stored.record_id}: stored view is not a full view")
        return validate_record(view.record)
    except MalformedError as exc:
        raise StorageError(
            f"record {stored.record_id}: stored full view unreadable: {exc}"
        ) from None


class Recomputation:
    """The figure checks of one accept call, in submission order.

    ``check(p)`` runs after ``p``'s links were checked against the store (every input is
    stored, or earlier in the bulk, with the stated digest); ``admitted(p)`` makes ``p``
    an input of the submissions after it.
    """

    def __init__(self, session: Transaction, *, cache: InputCache) -> None:
        self.session = session
        self.cache = cache
        self.bulk: dict[str, tuple[str, Record]] = {}  # record id -> (digest, record)
        self.in_force: dict[str, tuple[str, str] | None] = {}  # subject -> (id, grade)

    def check(self, p: ParsedSubmission) -> dict[str, Record]:
        """Recompute ``p``'s figures; returns the input records it read, by id."""
        record = p.record
        rule = figure_rule(record.type)
        if rule is None:
            return {}
        inputs = self.resolve(rule.inputs(record), follow=rule.follow)
        try:
            check_figures(record, inputs, strict=True)
        except CalculationMismatchError as exc:
            field, _, rest = exc.message.partition(": ")
            if not rest.startswith("stated "):
                rest = f"{rest}: stated {exc.expected!r}, recomputed {exc.computed!r}"
            raise FigureMismatchError(
                f"{rest} (calc/1)",
                record_id=p.record_id,
                field=field,
                index=p.index,
                stated=exc.expected,
                recomputed=exc.computed,
            ) from None
        except MalformedError as exc:
            raise _refused(p, exc.path or "body", exc.reason) from None
        except VerificationError as exc:
            raise _refused(p, "refs", exc.message, exc.expected, exc.computed) from None
        except LedgerError as exc:
            raise _refused(p, "refs", f"cannot recompute: {exc.message}") from None
        if record.type == "credit-change":
            self._check_in_force(p)
        return inputs

    def admitted(self, p: ParsedSubmission) -> None:
        self.bulk[p.record_id] = (p.digest_hex, p.record)
        if p.record.type == "credit-change":
            self.in_force[p.record.subject] = (p.record_id, p.record.body["grade"])

    # -- inputs -----------------------------------------------------------------------

    def resolve(self, refs: Sequence[Ref], *, follow: Collection[str] = ()) -> dict[str, Record]:
        """The records ``refs`` link, from earlier in the bulk, the cache or the store, and
        those their own links of the rels ``follow`` reach, transitively."""
        found = self._resolve(refs)
        while more := further_inputs(follow, found):
            found.update(self._resolve(more))
        return found

    def _resolve(self, refs: Sequence[Ref]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        missing: list[Ref] = []
        for ref in refs:
            earlier = self.bulk.get(ref.id)
            if earlier is not None:
                out[ref.id] = earlier[1]
                continue
            cached = self.cache.get(ref.digest)
            if cached is not None and cached.id == ref.id:
                out[ref.id] = cached
            else:
                missing.append(ref)
        if missing:
            stored = full_views(self.session, {r.id for r in missing})
            for ref in missing:
                found = stored.get(ref.id)
                # The links were checked against the store just before: a record that is
                # gone, or has another digest, is the store's fault, not the producer's.
                if found is None or found.digest_hex != ref.digest:
                    raise StorageError(f"input {ref.id} of a recomputation is not as linked")
                record = parse_stored(found)
                self.cache.put(found.digest_hex, record)
                out[ref.id] = record
        return out

    # -- the rating in force ------------------------------------------------------------

    def _current(self, subject: str) -> tuple[str, str] | None:
        if subject not in self.in_force:
            stored = latest_about(self.session, "credit-change", subject)
            if stored is None:
                self.in_force[subject] = None
            else:
                record = self.cache.get(stored.digest_hex) or parse_stored(stored)
                self.cache.put(stored.digest_hex, record)
                self.in_force[subject] = (record.id, record.body["grade"])
        return self.in_force[subject]

    def _check_in_force(self, p: ParsedSubmission) -> None:
        record = p.record
        named = record.supersedes if record.schema_version == "1" else record.previous
        current = self._current(record.subject)
        stated = record.body["previous_grade"]

        def refuse(field: str, reason: str) -> FigureMismatchError:
            return FigureMismatchError(
                reason,
                record_id=p.record_id,
                field=field,
                index=p.index,
                stated=stated,
                recomputed=current[1] if current is not None else None,
            )

        if current is None:
            if named is not None or stated is not None:
                raise refuse(
                    "body.previous_grade",
                    f"{record.subject} has no rating yet: previous_grade must be null and no "
                    "previous rating named",
                )
            return
        current_id, current_grade = current
        if named is None:
            raise refuse(
                "body.previous_grade",
                f"the rating in force for {record.subject} is {current_id} (grade "
                f"{current_grade}): name it with a 'previous' link and state previous_grade "
                f"{current_grade!r}",
            )
        if named.id != current_id:
            at = record.refs.index(named)
            raise refuse(
                f"refs[{at}].id",
                f"names {named.id} as the rating it follows, but the rating in force for "
                f"{record.subject} is {current_id} (grade {current_grade})",
            )
