"""The proven reader answers record by record from one proof of the whole planned group:
the plan is read once, at the first question, however many records ask (reading it at
every question made a 10,000-record run quadratic). No chain here: the group's prover is
a stand-in that records what it was asked, and the endpoint is never contacted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from verifier.evm.rpc import RpcEndpoint
from verifier.proven import ProvenReader


class Plan:
    """An iterable that counts how often it is walked."""

    def __init__(self, items: Iterable[int]) -> None:
        self.items = list(items)
        self.walks = 0

    def __iter__(self) -> Iterator[int]:
        self.walks += 1
        return iter(self.items)


def test_a_planned_group_is_proven_once_and_its_plan_read_once() -> None:
    reader = ProvenReader([RpcEndpoint("http://127.0.0.1:1")], anchor_registry="0x" + "11" * 20)
    reader.at_block = 7
    plan = Plan(range(2000))
    asked: list[tuple[set[int], int]] = []

    def prove(keys: Iterable[int], block: int) -> dict[int, int]:
        wanted = set(keys)
        asked.append((wanted, block))
        return {k: 2 * k for k in wanted}

    assert [reader._one("group", plan, k, prove) for k in range(2000)] == [
        2 * k for k in range(2000)
    ]
    assert asked == [(set(range(2000)), 7)]
    assert plan.walks == 1
    # A key outside the plan is proven alone, and the plan is not read again.
    assert reader._one("group", plan, 5000, prove) == 10000
    assert asked[1] == ({5000}, 7) and plan.walks == 1
