"""``columnar.Prefetch``: the batches of an import produced on a thread of their own."""

from __future__ import annotations

import threading

import pytest

from huiqi.core.columnar import Prefetch


def test_items_come_in_order_and_on_another_thread():
    threads = set()

    def items():
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(Prefetch(items())) == list(range(50))
    assert threads == {"huiqi-prefetch"}


def test_an_error_of_the_producer_is_raised_to_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("bad batch")

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for item in Prefetch(items()):
            got.append(item)
    assert got == [1, 2]


def test_closing_early_stops_the_producer_and_runs_its_clean_up():
    produced, cleaned = [], threading.Event()

    def items():
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            cleaned.set()

    feed = Prefetch(items(), depth=1)
    assert next(feed) == 0
    feed.close()
    assert cleaned.is_set()  # close waits for the producer, which closed its source
    assert len(produced) <= 3  # one taken, one waiting in the queue, one being put
    with pytest.raises(StopIteration):
        next(feed)
