"""``columnar.Prefetch``: the batches of an import produced on a thread of their own."""

from __future__ import annotations

import threading

import pytest

from huiqi.lending.bulk.columnar import Prefetch


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


def _schema():
    from huiqi.core.tabular import Column, Schema, parse_date, parse_text

    return Schema("t", (Column("code", "代码", parser=parse_text(8)), Column("day", "日期", parser=parse_date())))


def _file(tmp_path, rows: list[str]):
    path = tmp_path / "f.csv"
    path.write_text("代码,日期\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_csv_batches_know_a_one_batch_file_exactly_and_estimate_a_longer_one(tmp_path, monkeypatch):
    from huiqi.lending.bulk import columnar

    rows = [f"C-{i},2020-03-{i + 1:02d}" for i in range(9)]
    whole = columnar.CsvBatches(_file(tmp_path, rows), _schema())
    assert whole.single and whole.rows_estimate == 9
    frames = list(whole)
    assert [f.height for f in frames] == [9]
    assert frames[0]["code"].to_list()[:2] == ["C-0", "C-1"] and str(frames[0]["day"][8]) == "2020-03-09"

    monkeypatch.setattr(columnar, "BATCH_ROWS", 2)
    batched = columnar.CsvBatches(_file(tmp_path, rows), _schema())
    assert not batched.single and batched.rows_estimate > 2
    assert batched.first_texts("code") and set(batched.first_texts("code")) <= {"C-0", "C-1"}
    frames = list(batched)
    assert sum(f.height for f in frames) == 9 and all(f.height <= 2 for f in frames)
    assert [c for f in frames for c in f["code"].to_list()] == [f"C-{i}" for i in range(9)]


def test_csv_batches_decline_a_file_of_blank_rows(tmp_path, monkeypatch):
    from huiqi.lending.bulk import columnar

    monkeypatch.setattr(columnar, "BATCH_ROWS", 2)
    with pytest.raises(columnar.Declined):
        list(columnar.CsvBatches(_file(tmp_path, [" , ", ",", " ,"]), _schema()))


@pytest.mark.parametrize("batch_rows", [2, 100])
def test_csv_batches_skip_blank_rows_as_the_row_path_does(tmp_path, monkeypatch, batch_rows):
    """A row whose cells are all blank (empty or spaces) is skipped wherever it is, alone in its batch or
    among others; a row with only its first cell blank is not blank: its blank required cell declines."""
    from huiqi.lending.bulk import columnar

    monkeypatch.setattr(columnar, "BATCH_ROWS", batch_rows)
    rows = ["C-0,2020-03-01", " , ", "C-1,2020-03-02", ",", "  ,\t", "C-2,2020-03-03", "C-3,2020-03-04"]
    frames = list(columnar.CsvBatches(_file(tmp_path, rows), _schema()))
    assert [c for f in frames for c in f["code"].to_list()] == ["C-0", "C-1", "C-2", "C-3"]
    assert [str(d) for f in frames for d in f["day"].to_list()][-1] == "2020-03-04"
    with pytest.raises(columnar.Declined, match="required code is blank"):
        list(columnar.CsvBatches(_file(tmp_path, rows + [" ,2020-03-05"]), _schema()))
