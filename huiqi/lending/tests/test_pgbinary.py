"""The binary COPY writer stores exactly what the CSV one stores, and refuses what it cannot send."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from django.db import connection

from huiqi.lending.bulk import pgbinary
from huiqi.lending.bulk.columnar import copy_frame

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif("connection.vendor != 'postgresql'")]

UTC = dt.timezone.utc
COLUMNS = {  # name: (SQL type, polars dtype)
    "big": ("bigint", pl.Int64), "num": ("integer", pl.Int64), "small": ("smallint", pl.Int64),
    "flag": ("boolean", pl.Boolean), "day": ("date", pl.Date),
    "at": ("timestamp with time zone", pl.Datetime("us", "UTC")),
    "name": ("varchar(40)", pl.String), "note": ("text", pl.String),
    "rate": ("numeric(8, 4)", pl.String), "money": ("numeric(20, 2)", pl.String),
    "whole": ("numeric(6, 0)", pl.String), "fine": ("numeric(12, 9)", pl.String),
}
EDGES = {
    "big": [-(1 << 63), (1 << 63) - 1, 0, -1, None],
    "num": [-(1 << 31), (1 << 31) - 1, 0, 7, None],
    "small": [-(1 << 15), (1 << 15) - 1, 0, -2, None],
    "flag": [True, False, None, True, False],
    "day": [dt.date(1, 1, 1), dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(9999, 12, 31), None],
    "at": [dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC), dt.datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
           dt.datetime(2000, 1, 1, tzinfo=UTC), dt.datetime(2020, 2, 29, 12, 0, 0, 123_456, tzinfo=UTC), None],
    "name": ["", "深圳市惠企", 'a,b"c\nd\\e', "😀" * 10, None],
    "note": ["x" * 5000, "", "\t tab", "NULL", None],
    "rate": ["0", "3.85", "-0.0001", "9999.9999", None],
    "money": ["-999999999999999999.99", "1234567890.12", "0.5", "100", None],
    "whole": ["999999", "-1", "0", "10000", None],
    "fine": ["0.000000001", "123.456789012", "-0.5", "999", None],
}


def _frame(values: dict) -> pl.DataFrame:
    return pl.DataFrame({k: pl.Series(k, values[k], dtype=COLUMNS[k][1]) for k in COLUMNS})


def _tables(cursor, *names):
    for name in names:
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ("
                       + ", ".join(f"{k} {t}" for k, (t, _) in COLUMNS.items()) + ")")


def _copy_binary(cursor, table, frame):
    kinds = [pgbinary.column_kind(COLUMNS[c][0]) for c in frame.columns]
    assert pgbinary.sendable(frame, kinds)
    with cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(pgbinary.encode(frame, kinds))


def _rows(cursor, table):
    cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY {', '.join(COLUMNS)}")
    return cursor.fetchall()


def _random_frame(rng: random.Random, n: int) -> pl.DataFrame:
    def maybe(value):
        return None if rng.random() < 0.1 else value

    def decimal(whole, scale):
        w = str(rng.randrange(10 ** whole))
        text = w if not scale else f"{w}.{''.join(rng.choice('0123456789') for _ in range(rng.randint(1, scale)))}"
        return ("-" if rng.random() < 0.3 else "") + text

    values = {k: [] for k in COLUMNS}
    for _ in range(n):
        values["big"].append(maybe(rng.randint(-(1 << 63), (1 << 63) - 1)))
        values["num"].append(maybe(rng.randint(-(1 << 31), (1 << 31) - 1)))
        values["small"].append(maybe(rng.randint(-(1 << 15), (1 << 15) - 1)))
        values["flag"].append(maybe(rng.random() < 0.5))
        values["day"].append(maybe(dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(80_000))))
        values["at"].append(maybe(dt.datetime(1960, 1, 1, tzinfo=UTC)
                                  + dt.timedelta(microseconds=rng.randrange(3 * 10 ** 15))))
        values["name"].append(maybe("".join(rng.choice("a中,\"\n😀 é") for _ in range(rng.randint(0, 40)))))
        values["note"].append(maybe("".join(rng.choice("xyz\\\t") for _ in range(rng.randint(0, 300)))))
        values["rate"].append(maybe(decimal(4, 4)))
        values["money"].append(maybe(decimal(18, 2)))
        values["whole"].append(maybe(decimal(6, 0)))
        values["fine"].append(maybe(decimal(3, 9)))
    return _frame(values)


@pytest.mark.parametrize("case", ["edges", "random", "random, in blocks of a few rows", "no-nulls"])
def test_binary_copy_stores_what_csv_stores(case, monkeypatch):
    if case == "edges":
        frame = _frame(EDGES)
    elif case.startswith("random"):
        if "blocks" in case:  # the rows of text and NULLs are laid out block by block: many blocks here
            monkeypatch.setattr(pgbinary, "_BLOCK_BYTES", 1000)
        frame = _random_frame(random.Random(7), 3000)
    else:  # every column of fixed width and no NULL: the one-record-per-row path
        frame = _random_frame(random.Random(8), 2000).select("big", "num", "small", "flag", "day", "at", "rate",
                                                             "money").drop_nulls()
        assert frame.height > 100
    with connection.cursor() as cur:
        _tables(cur, "via_csv", "via_binary")
        full = frame.with_columns([pl.lit(None, COLUMNS[k][1]).alias(k) for k in COLUMNS if k not in frame.columns])
        copy_frame(cur.cursor, "via_csv", full.select(list(COLUMNS)))  # no model: CSV
        _copy_binary(cur.cursor, "via_binary", full.select(list(COLUMNS)))
        csv_rows, binary_rows = _rows(cur.cursor, "via_csv"), _rows(cur.cursor, "via_binary")
    assert len(binary_rows) == frame.height
    assert binary_rows == csv_rows
    if case == "edges":  # and the values are the ones meant, not just the same mistake twice
        by_big = {r[0]: r for r in binary_rows}
        assert by_big[(1 << 63) - 1][3:] == (False, dt.date(1999, 12, 31),
                                             dt.datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
                                             "深圳市惠企", "", *map(_dec, ("3.8500", "1234567890.12", "-1",
                                                                          "123.456789012")))
        assert by_big[-1][8:] == (_dec("9999.9999"), _dec("100.00"), _dec("10000"), _dec("999.000000000"))


def _dec(text):
    from decimal import Decimal

    return Decimal(text)


def test_the_server_still_checks_binary_values():
    """Only the parsing is skipped: a varchar too long is refused as it is from text."""
    import psycopg

    frame = _frame({k: [v[1]] for k, v in EDGES.items()}).with_columns(pl.lit("x" * 41).alias("name"))
    with connection.cursor() as cur:
        _tables(cur, "too_long")
        with pytest.raises(psycopg.errors.StringDataRightTruncation):
            _copy_binary(cur.cursor, "too_long", frame)


@pytest.mark.parametrize("column, value", [
    ("rate", "1e2"), ("rate", "1,000.00"), ("rate", " 1.0"), ("rate", "1.00001"), ("rate", "12345"),
    ("rate", "."), ("whole", "1.5"), ("small", 1 << 15), ("num", -(1 << 31) - 1),
])
def test_what_binary_cannot_send_is_left_to_csv(column, value):
    frame = _frame({k: [v[1]] for k, v in EDGES.items()})
    frame = frame.with_columns(pl.Series(column, [value], dtype=COLUMNS[column][1]))
    kinds = [pgbinary.column_kind(COLUMNS[c][0]) for c in frame.columns]
    assert not pgbinary.sendable(frame, kinds)
    with pytest.raises(ValueError):
        pgbinary.encode(frame, kinds)


def test_unknown_types_and_dtypes_are_not_sent():
    assert pgbinary.column_kind("jsonb") is None and pgbinary.column_kind("uuid") is None
    assert pgbinary.column_kind("numeric(8, 4)") == ("numeric", 4, 4)
    frame = pl.DataFrame({"a": ["1"]})
    assert not pgbinary.sendable(frame, [("int", 8)])
    assert not pgbinary.sendable(frame, [("date",)])
    assert not pgbinary.sendable(pl.DataFrame({"a": [dt.datetime(2020, 1, 1)]}), [("timestamptz",)])  # naive
    assert not pgbinary.sendable(frame, [None])


def test_copy_frame_sends_a_model_s_rows_in_binary(monkeypatch):
    """The import path: the payments' and loans' columns are all sendable, and what lands is right."""
    from huiqi.lending.models import InterestPayment, Loan
    from huiqi.registry.models import Bank

    bank = Bank.objects.create(code="B1", name="银行")
    now = dt.datetime(2020, 3, 1, 8, 30, tzinfo=UTC)
    loans = pl.DataFrame({
        "bank_id": [bank.pk, bank.pk], "loan_no": ["L-1", "贷-2"], "borrower_id": ["91440300MA5XXXXXX1", "x"],
        "borrower_name": ["甲公司", 'B "quoted", co'], "borrower_kind": ["enterprise", "business_owner"],
        "owner_of": ["", "91440300MA5XXXXXX1"], "purpose": ["operating", "other"], "guarantee": ["credit", "pledge"],
        "first_loan": [True, False], "principal_fen": [100_000_00, 1], "annual_rate": ["3.8500", "24.0000"],
        "start_date": [dt.date(2020, 2, 1)] * 2, "maturity_date": [dt.date(2021, 2, 1)] * 2,
        "extension_of": ["", ""],
    }).with_columns(pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"))
    sent = []
    real = pgbinary.encode_rows
    monkeypatch.setattr(pgbinary, "encode_rows", lambda frame, kinds: sent.append(frame.height) or real(frame, kinds))
    with connection.cursor() as cur:
        copy_frame(cur.cursor, Loan._meta.db_table, loans, model=Loan)
        stored = {ln.loan_no: ln for ln in Loan.objects.all()}
        ids = pl.Series("loan_id", [stored["L-1"].pk, stored["贷-2"].pk])
        payments = pl.DataFrame({"loan_id": ids, "accrual_start": [dt.date(2020, 2, 1)] * 2,
                                 "accrual_end": [dt.date(2020, 3, 1)] * 2, "paid_date": [dt.date(2020, 3, 2)] * 2,
                                 "interest_fen": [0, 123_45]}).with_columns(pl.lit(now).alias("updated_at"))
        copy_frame(cur.cursor, InterestPayment._meta.db_table, payments, model=InterestPayment)
    assert sent == [2, 2]
    second = stored["贷-2"]
    assert (second.borrower_name, second.annual_rate, second.first_loan, second.principal_fen, second.updated_at) == (
        'B "quoted", co', _dec("24.0000"), False, 1, now)
    assert str(stored["L-1"].annual_rate) == "3.8500"
    assert sorted(InterestPayment.objects.values_list("interest_fen", "paid_date")) == [
        (0, dt.date(2020, 3, 2)), (123_45, dt.date(2020, 3, 2))]


def _texts_last_frame(rng: random.Random, n: int) -> pl.DataFrame:
    """Random rows in the texts-last order, every text there and shorter than 128 bytes."""
    frame = _random_frame(rng, n)
    short = {"name": lambda: "".join(rng.choice("a中,\"\n😀 é") for _ in range(rng.randint(0, 30))),
             "note": lambda: "".join(rng.choice("xyz\\\t") for _ in range(rng.randint(0, 127)))}
    frame = frame.with_columns([pl.Series(k, [make() for _ in range(n)], dtype=pl.String)
                                for k, make in short.items()])
    kinds = [pgbinary.column_kind(COLUMNS[c][0]) for c in frame.columns]
    return frame.select([frame.columns[i] for i in pgbinary.text_last(kinds)])


def _kinds(frame):
    return [pgbinary.column_kind(COLUMNS[c][0]) for c in frame.columns]


def _old_layout(frame):
    fields = [pgbinary._field(s, k) for s, k in zip(frame.get_columns(), _kinds(frame))]
    return pgbinary._encode_scattered(frame.height, fields)


def test_texts_last_are_encoded_as_the_general_layout_does(monkeypatch):
    """The texts-last path gives the very bytes of the general one; it is taken only when every text is
    there and shorter than 128 bytes and no other field is NULL, else the general path runs."""
    taken = []
    fast = pgbinary._encode_texts_last
    monkeypatch.setattr(pgbinary, "_encode_texts_last", lambda *a: taken.append(1) or fast(*a))
    rng = random.Random(11)
    fixed_no_nulls = ["big", "num", "small", "flag", "day", "at", "rate", "money", "whole", "fine"]
    base = _texts_last_frame(rng, 500).with_columns(
        [pl.col(c).fill_null(strategy="forward").fill_null(strategy="backward") for c in fixed_no_nulls])
    assert base.columns[-2:] == ["name", "note"] and base.null_count().sum_horizontal().item() == 0
    note_127 = base.with_columns(pl.lit("é" * 63 + "x").alias("note"))  # 127 bytes
    note_128 = base.with_columns(pl.lit("é" * 64).alias("note"))  # 128 bytes
    null_name = base.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("name"))
                                  .alias("name"))
    null_big = base.with_columns(pl.when(pl.int_range(pl.len()) == 4).then(None).otherwise(pl.col("big"))
                                 .alias("big"))
    cases = [(base, True), (note_127, True), (base.head(1), True), (base.select("name", "note"), True),
             (base.with_columns(pl.lit("").alias("name")), True),
             (note_128, False), (null_name, False), (null_big, False),
             (base.select("name", "big", "note"), False)]  # a text before a fixed column: not texts last
    for frame, fast_path in cases:
        taken.clear()
        assert pgbinary.encode_rows(frame, _kinds(frame)) == _old_layout(frame)
        assert bool(taken) is fast_path
    assert pgbinary._encode_texts_last(base.head(0), [], 2) == b""


def test_texts_last_rows_are_stored_as_csv_stores_them():
    frame = _texts_last_frame(random.Random(12), 2000)
    with connection.cursor() as cur:
        _tables(cur, "via_csv", "via_binary")
        copy_frame(cur.cursor, "via_csv", frame.select(list(COLUMNS)))  # no model: CSV
        _copy_binary(cur.cursor, "via_binary", frame)
        assert _rows(cur.cursor, "via_binary") == _rows(cur.cursor, "via_csv")
        fixed = [c for c in frame.columns if c not in ("name", "note")]
        whole = frame.with_columns([pl.col(c).fill_null(strategy="forward").fill_null(strategy="backward")
                                    for c in fixed])
        cur.execute("TRUNCATE via_csv, via_binary")
        copy_frame(cur.cursor, "via_csv", whole.select(list(COLUMNS)))
        _copy_binary(cur.cursor, "via_binary", whole)  # no NULL at all: the texts-last path
        assert _rows(cur.cursor, "via_binary") == _rows(cur.cursor, "via_csv")
        cur.execute("SELECT count(*), count(DISTINCT name) FROM via_binary")
        assert cur.fetchone()[0] == 2000


@pytest.mark.parametrize("nulls", [False, True], ids=["no NULL", "a NULL"])
def test_a_moment_is_sent_the_same_in_any_unit_and_time_zone(nulls):
    """The microseconds since 2000-01-01 UTC, whatever unit and time zone the column carries."""
    moments = [dt.datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
               dt.datetime(2020, 2, 29, 12, tzinfo=UTC),
               None if nulls else dt.datetime(2000, 1, 1, tzinfo=UTC)]
    base = pl.Series("at", moments, dtype=pl.Datetime("us", "UTC")).to_frame()
    for dtype in (pl.Datetime("ms", "UTC"), pl.Datetime("ns", "UTC"), pl.Datetime("us", "Asia/Shanghai")):
        frame = base.with_columns(pl.col("at").dt.cast_time_unit(dtype.time_unit)
                                  .dt.convert_time_zone(dtype.time_zone))
        frame = frame.with_columns(pl.col("at").dt.truncate("1ms")) if dtype.time_unit == "ms" else frame
        reference = base.with_columns(pl.col("at").dt.truncate("1ms")) if dtype.time_unit == "ms" else base
        assert frame.schema["at"] == dtype
        assert pgbinary.encode(frame, [("timestamptz",)]) == pgbinary.encode(reference, [("timestamptz",)])
