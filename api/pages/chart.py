"""The carbon figure of a piece of equipment by lifecycle stage, as a bar chart drawn on
the server (inline SVG: readable without JavaScript, and the same figures are in a table
beside it for screen readers).

Bar lengths are proportions of the largest stage, computed in ``Decimal`` and rounded to
whole pixels; the labels print every figure exactly as the record states it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from api.pages.i18n import Reader
from api.pages.vocab import labeller
from ledger.service.registrymodels import StageFigure

__all__ = ["Bar", "Chart", "stage_chart"]

WIDTH = 640
LABEL_WIDTH = 250
BAR_SPACE = 270
ROW_HEIGHT = 34
BAR_HEIGHT = 20
TOP = 10


@dataclass(frozen=True)
class Bar:
    label: str
    figure: str
    y: int
    width: int
    text_y: int
    negative: bool


@dataclass(frozen=True)
class Chart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_x: int
    value_x_pad: int


def stage_chart(stages: Sequence[StageFigure], reader: Reader) -> Chart | None:
    """The bars of ``stages`` (None when there is nothing to draw)."""
    values: list[tuple[StageFigure, Decimal]] = []
    for stage in stages:
        try:
            values.append((stage, Decimal(stage.figure)))
        except InvalidOperation:
            continue
    if not values:
        return None
    largest = max(abs(v) for _s, v in values) or Decimal(1)
    label = labeller(reader.gettext)
    bars = []
    for i, (stage, value) in enumerate(values):
        scaled = (abs(value) * BAR_SPACE / largest).quantize(Decimal(1), ROUND_HALF_EVEN)
        y = TOP + i * ROW_HEIGHT
        bars.append(
            Bar(
                label=label("stage", stage.stage),
                figure=reader.number(stage.figure),
                y=y,
                width=max(int(scaled), 1),
                text_y=y + BAR_HEIGHT - 5,
                negative=value < 0,
            )
        )
    height = TOP * 2 + len(bars) * ROW_HEIGHT
    return Chart(tuple(bars), WIDTH, height, LABEL_WIDTH, LABEL_WIDTH + 10, 6)
