"""Stages: order kept, bounded queues, and the first error anywhere stops every thread."""
from __future__ import annotations

import threading
import time

import pytest

from pipeline.stages import Stages


def test_items_flow_in_order_through_source_map_and_sink() -> None:
    seen: list[int] = []
    with Stages(queue_size=2) as stages:
        doubled = stages.map("double", stages.source("count", lambda: range(50)), lambda x: 2 * x)
        out = stages.new_queue()
        stages.sink("collect", out, seen.append)
        for item in stages.iterate(doubled):
            stages.put(out, item + 1)
        stages.end(out)
        stages.join()
    assert seen == [2 * i + 1 for i in range(50)]


def test_an_error_in_a_stage_reaches_the_reader_and_stops_the_source() -> None:
    produced: list[int] = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    def fail_at_5(x: int) -> int:
        if x == 5:
            raise KeyError("stage broke")
        return x

    before = threading.active_count()
    with pytest.raises(KeyError, match="stage broke"):
        with Stages(queue_size=2) as stages:
            for _ in stages.iterate(stages.map("fail", stages.source("endless", endless), fail_at_5)):
                pass
    time.sleep(0.2)
    assert threading.active_count() == before  # every stage thread ended
    assert len(produced) < 20  # the bounded queue held the source back, and it stopped


def test_an_error_in_the_reading_thread_stops_the_stages() -> None:
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="cancel"):
        with Stages(queue_size=1) as stages:
            for item in stages.iterate(stages.source("count", lambda: iter(range(10**9)))):
                if item == 3:
                    raise RuntimeError("cancel")
    assert threading.active_count() == before


def test_a_pooled_stage_keeps_order_and_raises_in_the_reader() -> None:
    import random

    def slow_square(x: int) -> int:
        time.sleep(random.random() * 0.01)
        if x == 40:
            raise ValueError("item 40 is bad")
        return x * x

    got: list[int] = []
    with pytest.raises(ValueError, match="item 40"):
        with Stages(queue_size=2) as stages:
            for item in stages.iterate(stages.map("pool", stages.source("n", lambda: range(100)), slow_square, workers=3)):
                got.append(item)
    assert got == [x * x for x in range(40)]


@pytest.mark.parametrize("in_flight", [1, 3])
def test_at_most_in_flight_items_between_the_source_and_the_sink(in_flight: int) -> None:
    # The sink holds the first item until the source has made one item more than the bound
    # (which a bound that works never lets it do; then the sink goes on after a while). At the
    # moment each item is made, the items made minus those the sink finished never exceed it.
    made, finished, outstanding = [0], [0], []
    too_many = threading.Event()

    def source():
        for i in range(12):
            made[0] += 1
            outstanding.append(made[0] - finished[0])
            if made[0] - finished[0] > in_flight:
                too_many.set()
            yield i

    def sink(item: int) -> None:
        if item == 0:
            too_many.wait(2.0)
        finished[0] += 1

    with Stages(queue_size=4, in_flight=in_flight) as stages:
        passed = stages.map("pass", stages.source("make", source), lambda x: x)
        out = stages.new_queue()
        stages.sink("finish", out, sink)
        for item in stages.iterate(passed):
            stages.put(out, item)
        stages.end(out)
        stages.join()
    assert finished[0] == 12
    assert max(outstanding) == in_flight


def test_in_flight_must_allow_one_item() -> None:
    with pytest.raises(ValueError, match="in_flight must be at least 1"):
        Stages(in_flight=0)


def test_group_makes_batches_in_order_with_a_short_last_one() -> None:
    with Stages(queue_size=2, in_flight=5) as stages:
        batches = stages.group("batch", stages.source("numbers", lambda: range(11)), 4)
        seen = []
        for batch in stages.iterate(batches):
            seen.append(batch)
            for _ in batch:
                stages.done()
    assert seen == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]


def test_a_group_larger_than_the_items_in_flight_is_refused() -> None:
    with Stages(in_flight=3) as stages:
        with pytest.raises(ValueError, match="group size must be between 1 and in_flight \\(3\\), got 4"):
            stages.group("batch", stages.new_queue(), 4)
