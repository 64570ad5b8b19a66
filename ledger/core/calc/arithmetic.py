"""calc/1 arithmetic: the decimal context, the one rounding and figure comparison
(docs/CALC.md §2, §8).

All arithmetic goes through an explicit :func:`calc_context` (never the thread's
current decimal context); no float is involved anywhere between a record and a result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

from ledger.core.errors import CalculationMismatchError, MalformedError
from ledger.core.types import fields as f

CALC_VERSION = "calc/1"
PRECISION = 34  # IEEE 754 decimal128 (docs/CALC.md §2)
_ROUNDING = {
    "ROUND_HALF_EVEN": ROUND_HALF_EVEN,
    "ROUND_HALF_UP": ROUND_HALF_UP,
    "ROUND_DOWN": ROUND_DOWN,
    "ROUND_UP": ROUND_UP,
}


def calc_context() -> Context:
    """A fresh calc/1 context: 34 digits, half-even, and every exceptional
    condition except Inexact/Rounded trapped (docs/CALC.md §2)."""
    return Context(
        prec=PRECISION,
        rounding=ROUND_HALF_EVEN,
        Emin=-999_999,
        Emax=999_999,
        capitals=1,
        clamp=0,
        flags=[],
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


def exact_text(value: Decimal) -> str:
    """An unrounded figure in plain notation without trailing zeros."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def round_figure(value: Decimal, rounding: Mapping[str, Any], ctx: Context) -> str:
    """The one rounding of calc/1 (docs/CALC.md §8): quantize to `places`."""
    quantum = Decimal(1).scaleb(-int(rounding["places"]))
    try:
        rounded = value.quantize(quantum, rounding=_ROUNDING[rounding["mode"]], context=ctx)
    except InvalidOperation:
        # More than 34 digits before and after the point together (docs/CALC.md §2).
        raise MalformedError(
            f"figure {exact_text(value)} cannot be written to {rounding['places']} places "
            f"within {PRECISION} digits"
        ) from None
    if rounded == 0:
        rounded = abs(rounded)  # never write "-0.00"
    return format(rounded, "f")


def in_vocabulary_order(keys: Iterable[str], vocabulary: Sequence[str]) -> list[str]:
    """``keys`` in the order of ``vocabulary``, unknown keys last in code-point order."""
    rank = {k: i for i, k in enumerate(vocabulary)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


def compare(stated: Any, computed: Any, path: str) -> None:
    """Raise CalculationMismatchError at the first figure that differs.

    Decimal strings compare by value ("4448.0" equals "4448.00"); everything
    else compares exactly.
    """
    if type(stated) is type(computed) and stated == computed:
        # Equal JSON (the usual case, checked at C speed): nothing below can differ. Python's
        # == takes True for 1 inside containers, but no computed figure structure holds an
        # integer or a boolean below its top level, where the type test above applies.
        return
    if isinstance(stated, Mapping) and isinstance(computed, Mapping):
        for key in in_vocabulary_order(set(stated) | set(computed), ()):
            if key not in stated or key not in computed:
                raise CalculationMismatchError(
                    f"{f.sub(path, key)}: figure missing on one side",
                    expected=stated.get(key),
                    computed=computed.get(key),
                )
            compare(stated[key], computed[key], f.sub(path, key))
        return
    if isinstance(stated, list) and isinstance(computed, list):
        if len(stated) != len(computed):
            raise CalculationMismatchError(
                f"{path}: {len(stated)} items stated, {len(computed)} recomputed",
                expected=len(stated),
                computed=len(computed),
            )
        for i, (a, b) in enumerate(zip(stated, computed, strict=True)):
            compare(a, b, f.sub(path, i))
        return
    if (
        isinstance(stated, str)
        and isinstance(computed, str)
        and f.DECIMAL_RE.fullmatch(stated)
        and f.DECIMAL_RE.fullmatch(computed)
    ):
        if Decimal(stated) == Decimal(computed):
            return
    elif stated == computed and type(stated) is type(computed):
        return
    raise CalculationMismatchError(
        f"{path}: stated {stated!r}, recomputed {computed!r}", expected=stated, computed=computed
    )
