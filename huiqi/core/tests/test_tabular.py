"""Tests of the tabular import engine, with files built in each test (CSV in three encodings, XLSX)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from decimal import Decimal

import pytest
import xlsxwriter
from hypothesis import given
from django.utils.translation import gettext_lazy
from hypothesis import strategies as st

from huiqi.core import tabular
from huiqi.core.tabular import (
    ERROR_REPORT_HEADER,
    ROW,
    CellError,
    Column,
    FileRejected,
    RowError,
    Schema,
    file_digest,
    iter_chunks,
    parse_bool_yn,
    parse_choice,
    parse_date,
    parse_decimal,
    parse_int,
    parse_text,
    read_table,
    validate,
    write_error_report,
    write_rows,
    write_template,
)

KIND = {"enterprise": "enterprise", "individual_business": "individual_business",
        "企业": "enterprise", "个体工商户": "individual_business"}

# The enterprise registry extract of specs/bank-data-exchange.md.
REGISTRY = Schema("registry", [
    Column("uscc", "统一社会信用代码", parser=parse_text(18)),
    Column("name", "企业名称"),
    Column("kind", "主体类型", parser=parse_choice(KIND)),
    Column("district", "所属区"),
    Column("industry", "行业代码"),
    Column("employees", "从业人员（人）", required=False, parser=parse_int(min=0)),
    Column("revenue", "营业收入（万元）", required=False, parser=parse_decimal(2, min=0)),
    Column("assets", "资产总额（万元）", required=False, parser=parse_decimal(2, min=0)),
    Column("figures_year", "数据年度", parser=parse_int(min=2000, max=2100)),
])

# Part of the loan ledger: amounts, dates and a cross-field rule.
LOANS = Schema("loans", [
    Column("loan_no", "贷款合同编号", parser=parse_text(64)),
    Column("first_loan", "是否首贷", parser=parse_bool_yn()),
    Column("principal", "贷款金额（元）", parser=parse_decimal(2, min=0, min_exclusive=True)),
    Column("annual_rate", "年利率（%）", parser=parse_decimal(min=0, min_exclusive=True, max=24)),
    Column("start_date", "放款日期", parser=parse_date()),
    Column("maturity_date", "到期日期", parser=parse_date()),
])

ZH_HEADER = "统一社会信用代码,企业名称,主体类型,所属区,行业代码,从业人员（人）,营业收入（万元）,资产总额（万元）,数据年度"
ROWS = [
    "91440300MA5FXXXX01,深圳甲科技有限公司,企业,440305,I65,120,\"1,234.50\",800,2019",
    "92440300MA5FXXXX02,李记士多,个体工商户,440303,F52,3,45.6,,2019",
]
EXPECTED = [
    {ROW: 2, "uscc": "91440300MA5FXXXX01", "name": "深圳甲科技有限公司", "kind": "enterprise",
     "district": "440305", "industry": "I65", "employees": 120, "revenue": Decimal("1234.50"),
     "assets": Decimal("800.00"), "figures_year": 2019},
    {ROW: 3, "uscc": "92440300MA5FXXXX02", "name": "李记士多", "kind": "individual_business",
     "district": "440303", "industry": "F52", "employees": 3, "revenue": Decimal("45.60"),
     "assets": None, "figures_year": 2019},
]


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_file(path, rows: list[list], date_cells: dict | None = None) -> str:
    """An XLSX written by xlsxwriter; ``date_cells`` maps (row, col) → a datetime written as a date cell."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    date_format = wb.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r, c, v)
            else:
                ws.write_number(r, c, v)
    for (r, c), v in (date_cells or {}).items():
        ws.write_datetime(r, c, v, date_format)
    wb.close()
    return str(path)


def errors_by_cell(result) -> dict[tuple[int, str | None], RowError]:
    return {(e.row, e.column): e for e in result.errors}


# --- decoding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_accepted_encoding_reads_the_same(encoding):
    result = validate(csv_bytes([ZH_HEADER, *ROWS], encoding), REGISTRY)
    assert result.ok, result.errors
    assert result.rows == EXPECTED
    assert result.format == "csv"
    assert result.encoding == ("utf-8-sig" if encoding.startswith("utf-8") else "gb18030")


def test_csv_from_path_and_from_file_object(tmp_path):
    path = tmp_path / "名录.csv"
    path.write_bytes(csv_bytes([ZH_HEADER, *ROWS], "gbk"))
    assert validate(path, REGISTRY).rows == EXPECTED
    upload = io.BytesIO(path.read_bytes())
    assert validate(upload, REGISTRY).rows == EXPECTED
    assert not upload.closed  # the caller's file stays theirs


def test_xlsx_with_mixed_language_header_date_cells_and_serials(tmp_path):
    path = xlsx_file(tmp_path / "loans.xlsx", [
        ["到期日期", "loan_no", "Principal", "年利率(%)", "start_date", "是否首贷"],
        [None, "L-001", 1000000, 4.35, None, "是"],
        ["2021-03-01", "L-002", "1,500,000.50", "3.85", 43891, "N"],
        [44256.0, 12345, 0.1 + 0.2, 24, "2020年3月1日", "Y"],
    ], date_cells={(1, 0): dt.datetime(2021, 3, 1), (1, 4): dt.datetime(2020, 3, 1)})
    result = validate(path, LOANS)
    assert result.ok, result.errors
    assert result.format == "xlsx"
    assert [r["start_date"] for r in result.rows] == [dt.date(2020, 3, 1)] * 3
    assert [r["maturity_date"] for r in result.rows] == [dt.date(2021, 3, 1)] * 3
    assert [r["principal"] for r in result.rows] == [Decimal("1000000.00"), Decimal("1500000.50"),
                                                     Decimal("0.30")]  # 0.1 + 0.2 as Excel shows it
    assert [r["loan_no"] for r in result.rows] == ["L-001", "L-002", "12345"]
    assert [r["first_loan"] for r in result.rows] == [True, False, True]
    assert all(type(r["principal"]) is Decimal and type(r["annual_rate"]) is Decimal for r in result.rows)


def test_xlsx_row_numbers_are_those_excel_shows(tmp_path):
    path = xlsx_file(tmp_path / "t.xlsx", [
        [None], [None],
        ["贷款合同编号", "是否首贷", "贷款金额（元）", "年利率（%）", "放款日期", "到期日期"],
        ["L1", "Y", 100, 4, "2020-03-01", "2021-03-01"],
        [None],
        ["L2", "Y", -100, 4, "2020-03-01", "2021-03-01"],
    ])
    table = read_table(path)
    assert table.header_row == 3
    result = validate(table, LOANS)
    assert [r[ROW] for r in result.rows] == [4]
    assert [(e.row, e.column) for e in result.errors] == [(6, "principal")]


def test_columns_in_any_order_and_extra_columns_reported():
    header = "数据年度,备注,Name,USCC,所属区,kind, industry ,内部编号"
    result = validate(csv_bytes([header, "2019,无,甲公司,91440300MA5FXXXX01,440305,企业,C39,7"]), REGISTRY)
    assert result.ok, result.errors
    assert result.unknown_columns == ["备注", "内部编号"]
    assert result.columns["industry"] == "industry"
    assert result.rows[0] == {ROW: 2, "uscc": "91440300MA5FXXXX01", "name": "甲公司", "kind": "enterprise",
                              "district": "440305", "industry": "C39", "employees": None,
                              "revenue": None, "assets": None, "figures_year": 2019}


def test_header_matching_ignores_width_case_and_spaces():
    header = "ＬＯＡＮ_ＮＯ, First Loan ,贷款金额(元),年利率（％）,*放款日期,MATURITY-DATE"
    result = validate(csv_bytes([header, "A1,Y,10,4,2020-03-01,2021-03-01"]), LOANS)
    assert result.ok, result.errors
    assert result.rows[0]["principal"] == Decimal("10.00")


def test_missing_required_column_refuses_a_strict_match():
    header = "统一社会信用代码,企业名称,所属区,行业代码"
    with pytest.raises(FileRejected) as exc:
        REGISTRY.match(header.split(","))
    assert exc.value.code == "missing_columns"
    assert exc.value.value == ["kind", "figures_year"]
    assert "主体类型" in exc.value.zh and "数据年度" in exc.value.zh
    assert "kind" in exc.value.en and "figures_year" in exc.value.en


def test_missing_required_column_is_reported_with_the_rows_errors():
    header = "统一社会信用代码,企业名称,所属区,行业代码,从业人员（人）"
    result = validate(csv_bytes([header, "91440300MA5FXXXX01,甲,440305,C39,many", "91440300MA5FXXXX02,乙,440305,C39,3"]),
                      REGISTRY)
    found = errors_by_cell(result)
    assert set(found) == {(1, "kind"), (1, "figures_year"), (2, "employees")}
    assert "主体类型" in found[1, "kind"].zh and "kind" in found[1, "kind"].en
    assert not result.ok and result.row_count == 2 and [r[ROW] for r in result.rows] == [3]


def test_column_given_twice_refuses_a_strict_match():
    with pytest.raises(FileRejected) as exc:
        REGISTRY.match((ZH_HEADER + ",uscc").split(","))
    assert exc.value.code == "duplicate_columns"


def test_column_given_twice_is_read_from_neither_copy_and_the_rest_is_checked():
    result = validate(csv_bytes([ZH_HEADER + ",uscc", ROWS[0] + ",x", ROWS[1].replace(",2019", ",1999") + ",y"]),
                      REGISTRY)
    found = errors_by_cell(result)
    assert set(found) == {(1, "uscc"), (3, "figures_year")}
    assert "两次" in found[1, "uscc"].zh


@pytest.mark.parametrize("blob", [
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
    random.Random(7).randbytes(5000),
    b"PK\x03\x04" + bytes(100),
])
def test_what_is_not_a_spreadsheet_is_refused(blob):
    with pytest.raises(FileRejected) as exc:
        read_table(blob, "loans.csv")
    assert exc.value.code == "not_spreadsheet"
    assert "not a spreadsheet (CSV or XLSX)" in exc.value.en


def test_text_in_neither_utf8_nor_gb18030_is_refused():
    with pytest.raises(FileRejected) as exc:
        read_table(b"a,b\r\n1,\xff\xff\r\n", "x.csv")
    assert exc.value.code == "bad_encoding"
    assert "not a UTF-8 or GB18030 text file" in exc.value.en


def test_damaged_utf8_is_not_read_as_gb18030_garbage():
    good = "\r\n".join(["企业名称"] + ["深圳市某某科技有限公司"] * 20).encode()
    with pytest.raises(FileRejected) as exc:
        read_table(good + b"\r\n\xff\xfe\r\n", "x.csv")
    assert exc.value.code == "bad_encoding"
    assert "line 22" in exc.value.en


def test_utf8_head_decides_from_the_first_64_kb_only():
    """For a caller that reads the rest as strict UTF-8 itself: the encoding from the first 64 KB when
    they are UTF-8 (a character cut at their end allowed), else the whole file's check as always."""
    line = "深圳市某某科技有限公司".encode()
    body = b"\r\n".join([b"name"] + [line] * 4000)
    assert len(body) > 65536
    damaged = body + b"\r\n\xff\xfe\r\n"
    assert read_table(damaged, "x.csv", utf8_head=True).encoding == "utf-8-sig"
    with pytest.raises(FileRejected):
        read_table(damaged, "x.csv")
    cut = b"name\r\n" + b"x" * (65536 - 7) + line  # the first 64 KB end inside a character
    assert read_table(cut, "x.csv", utf8_head=True).encoding == "utf-8-sig"
    gbk = "\r\n".join(["企业名称"] + ["深圳市某某科技有限公司"] * 20).encode("gbk")
    assert read_table(gbk, "x.csv", utf8_head=True).encoding == "gb18030"
    with pytest.raises(FileRejected):
        read_table(b"a,b\r\n1,\xff\xff\r\n", "x.csv", utf8_head=True)


@pytest.mark.parametrize("blob", [b"", b"\xef\xbb\xbf", b"\r\n \r\n"])
def test_empty_file_is_refused(blob):
    with pytest.raises(FileRejected) as exc:
        read_table(blob, "x.csv")
    assert exc.value.code == "empty_file"


def test_header_only_file_is_refused(tmp_path):
    with pytest.raises(FileRejected) as exc:
        validate(csv_bytes([ZH_HEADER, ",,,", ""]), REGISTRY)
    assert exc.value.code == "no_data_rows"
    path = xlsx_file(tmp_path / "h.xlsx", [ZH_HEADER.split(",")])
    with pytest.raises(FileRejected) as exc:
        read_table(path)
    assert exc.value.code == "no_data_rows"
    assert read_table(path, require_rows=False).header == ZH_HEADER.split(",")


def test_empty_xlsx_is_refused(tmp_path):
    path = xlsx_file(tmp_path / "e.xlsx", [])
    with pytest.raises(FileRejected) as exc:
        read_table(path)
    assert exc.value.code == "empty_file"


def test_quoted_fields_with_commas_and_newlines_keep_row_numbers():
    data = csv_bytes([
        "loan_no,first_loan,principal,annual_rate,start_date,maturity_date",
        '"A,1",Y,"1,000.00",4,2020-03-01,2021-03-01',
        '"B\r\n2",Y,"2,000",4,2020-03-01,2021-03-01',
        'C3,Y,-1,4,2020-03-01,2021-03-01',
    ])
    result = validate(data, LOANS)
    assert [r["loan_no"] for r in result.rows] == ["A,1", "B\r\n2"]
    assert [(e.row, e.column) for e in result.errors] == [(4, "principal")]


def test_unquoted_thousands_separator_is_caught_as_a_shifted_row():
    data = csv_bytes([
        "loan_no,first_loan,principal,annual_rate,start_date,maturity_date",
        "A1,Y,1,000.00,4,2020-03-01,2021-03-01",
    ])
    result = validate(data, LOANS)
    assert not result.rows
    assert [(e.row, e.column) for e in result.errors] == [(2, None)]
    assert "thousands separator" in result.errors[0].en


def test_tab_separated_export_is_read():
    data = csv_bytes(["loan_no\tfirst_loan\tprincipal\tannual_rate\tstart_date\tmaturity_date",
                      "A1\tY\t1,000.00\t4\t2020-03-01\t2021-03-01"])
    assert validate(data, LOANS).rows[0]["principal"] == Decimal("1000.00")


# --- cells --------------------------------------------------------------------------------------------


LOAN_HEADER = "loan_no,first_loan,principal,annual_rate,start_date,maturity_date"


def loan_errors(*lines: str) -> dict:
    return errors_by_cell(validate(csv_bytes([LOAN_HEADER, *lines]), LOANS))


def test_thousands_separators_and_full_width_digits_are_read():
    result = validate(csv_bytes([
        LOAN_HEADER,
        'A1,Y,"1,234,567.89",4.35,2020-03-01,2021-03-01',
        "A2,是,１２３．５, ３．８５ ,２０２０年３月１日,2021/3/1",
    ]), LOANS)
    assert result.ok, result.errors
    assert [r["principal"] for r in result.rows] == [Decimal("1234567.89"), Decimal("123.50")]
    assert result.rows[1]["annual_rate"] == Decimal("3.85")
    assert result.rows[1]["start_date"] == dt.date(2020, 3, 1)


@pytest.mark.parametrize("cell, column, en", [
    ("A1,Y,12.345,4,2020-03-01,2021-03-01", "principal", "more than 2 decimal places"),
    ("A1,Y,-100,4,2020-03-01,2021-03-01", "principal", "greater than 0"),
    ("A1,Y,一百元,4,2020-03-01,2021-03-01", "principal", "not a number"),
    ("A1,Y,100,25,2020-03-01,2021-03-01", "annual_rate", "at most 24"),
    ("A1,Y,100,4,2020-02-30,2021-03-01", "start_date", "no such date"),
    ("A1,Y,100,4,1999-12-31,2021-03-01", "start_date", "outside 2000-01-01..2100-12-31"),
    ("A1,maybe,100,4,2020-03-01,2021-03-01", "first_loan", "Y or N"),
    (",Y,100,4,2020-03-01,2021-03-01", "loan_no", "required"),
])
def test_bad_cells_are_row_errors_never_silent_values(cell, column, en):
    errors = loan_errors(cell)
    assert list(errors) == [(2, column)]
    assert en in errors[(2, column)].en
    assert errors[(2, column)].zh


def test_every_bad_row_is_reported_with_row_and_column():
    result = validate(csv_bytes([
        LOAN_HEADER,
        "A1,Y,100,4,2020-03-01,2021-03-01",
        "A2,Y,abc,4,2020-02-30,2021-03-01",
        "A3,Y,100,4,2020-03-01,2021-03-01",
        "A4,X,100.001,4,2020-03-01,2021-03-01",
        "A5,Y,100,-1,2020-03-01,1999-01-01",
    ]), LOANS)
    assert not result.ok
    assert [r["loan_no"] for r in result.rows] == ["A1", "A3"]
    assert sorted((e.row, e.column) for e in result.errors) == [
        (3, "principal"), (3, "start_date"),
        (5, "first_loan"), (5, "principal"),
        (6, "annual_rate"), (6, "maturity_date"),
    ]
    assert result.bad_rows == [3, 5, 6]
    assert result.row_count == 5
    assert errors_by_cell(result)[(3, "principal")].value == "abc"


def test_row_validator_checks_across_fields():
    def maturity_after_start(row):
        if row["maturity_date"] <= row["start_date"]:
            return [("maturity_date", gettext_lazy("到期日期必须晚于放款日期"))]
        return []

    result = validate(csv_bytes([
        LOAN_HEADER,
        "A1,Y,100,4,2020-03-01,2020-03-01",
        "A2,Y,100,4,2020-03-01,2020-03-02",
    ]), LOANS, row_validator=maturity_after_start)
    assert [(e.row, e.column, e.value) for e in result.errors] == [(2, "maturity_date", "2020-03-01")]
    assert [r["loan_no"] for r in result.rows] == ["A2"]


def test_duplicate_keys_within_a_file_name_both_rows():
    result = validate(csv_bytes([
        ZH_HEADER,
        ROWS[0],
        ROWS[1],
        ROWS[0].replace("深圳甲科技有限公司", "深圳乙科技有限公司"),
        " " + ROWS[0],
    ]), REGISTRY, key=("uscc",))
    assert [(e.row, e.column) for e in result.errors] == [(4, "uscc"), (5, "uscc")]
    assert "row 2" in result.errors[0].en and "第 2 行" in result.errors[0].zh
    assert [r[ROW] for r in result.rows] == [2, 3]


def test_duplicate_check_on_a_composite_key_is_exact():
    result = validate(csv_bytes([
        LOAN_HEADER,
        "ab,Y,100,4,2020-03-01,2021-03-01",
        "a,Y,100,4,2020-03-01,2021-03-01",
        "ab,Y,100,4,2020-03-02,2021-03-01",
        "ab,N,100,4,2020-03-01,2021-03-01",
    ]), LOANS, key=("loan_no", "start_date"))
    assert [(e.row, e.column) for e in result.errors] == [(5, "loan_no")]
    assert "row 2" in result.errors[0].en


# --- parsers --------------------------------------------------------------------------------------


def test_parsers_return_none_for_blank_and_raise_cell_errors():
    assert parse_decimal()(None) is None and parse_date()("  ") is None and parse_text()("\u3000") is None
    with pytest.raises(CellError) as exc:
        parse_text(max_len=3)("abcd")
    assert exc.value.zh and exc.value.en
    assert parse_text()("\ufeff 甲公司\u3000") == "甲公司"


@pytest.mark.parametrize("text", [
    "2020-03-01", "2020/03/01", "2020/3/1", "2020.3.1", "20200301", "2020年03月01日", "２０２０－０３－０１",
    "43891", "43891.0", "2020-03-01 00:00:00", "2020-03-01T00:00", "2020/3/1 0:00",
])
def test_parse_date_accepts(text):
    assert parse_date()(text) == dt.date(2020, 3, 1)


def test_parse_date_range_is_inclusive():
    assert parse_date()("2000-01-01") == dt.date(2000, 1, 1)
    assert parse_date()("2100-12-31") == dt.date(2100, 12, 31)


@pytest.mark.parametrize("text", ["2020-02-30", "2021-02-29", "2020-13-01", "1999-12-31", "2101-01-01",
                                  "01/03/2020", "2020-03-01 12:30:00", "36525", "tomorrow", "2020-3"])
def test_parse_date_refuses(text):
    with pytest.raises(CellError):
        parse_date()(text)


def test_parse_decimal_and_int_details():
    money = parse_decimal(places=2, min=0)
    assert money("1.500") == Decimal("1.50")  # trailing zeros are not extra precision
    assert money("-0") == Decimal("0.00")
    for bad in ("1,00", "1e3", "NaN", "Infinity", "¥100", "5%", "(100)", "1 000"):
        with pytest.raises(CellError):
            money(bad)
    assert parse_decimal()("0.123456") == Decimal("0.123456")
    assert parse_int()("1,234") == 1234 and parse_int()("１２") == 12 and parse_int()("7.0") == 7
    with pytest.raises(CellError):
        parse_int()("7.5")
    with pytest.raises(CellError):
        parse_int(min=0)("-1")


def test_parse_choice_and_bool():
    kind = parse_choice(KIND)
    assert kind("企业") == kind(" Enterprise ") == "enterprise"
    with pytest.raises(CellError) as exc:
        kind("公司")
    assert "企业" in exc.value.zh and "enterprise" in exc.value.en
    yn = parse_bool_yn()
    assert [yn(v) for v in ("Y", "n", "是", "否", "TRUE")] == [True, False, True, False, True]


@given(st.decimals(min_value=0, max_value=Decimal("1e13"), places=2, allow_nan=False, allow_infinity=False))
def test_parse_decimal_round_trips_amounts_with_thousands_separators(amount):
    text = f"{amount:,.2f}"
    parsed = parse_decimal(places=2, min=0)(text)
    assert parsed == amount and type(parsed) is Decimal
    assert parse_decimal(places=2)(text.translate(str.maketrans("0123456789,.", "０１２３４５６７８９，．"))) == amount


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_parse_date_round_trips_every_format(day):
    parse = parse_date()
    serial = (day - dt.date(1899, 12, 30)).days
    for text in (day.isoformat(), f"{day.year}/{day.month}/{day.day}", day.strftime("%Y%m%d"),
                 f"{day.year}年{day.month}月{day.day}日", str(serial), f"{day.isoformat()} 00:00:00"):
        assert parse(text) == day


# --- streaming ------------------------------------------------------------------------------------


def test_chunked_reading_of_a_large_csv_equals_a_whole_read(tmp_path):
    rng = random.Random(1)
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="gb18030", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(LOAN_HEADER.split(","))
        for i in range(120_000):
            principal = f"{rng.randrange(1, 10**9) / 100:,.2f}"
            bad = i % 10_007 == 0
            writer.writerow([f"贷{i:06d}", rng.choice("YN是否"), "abc" if bad else principal, "4.35",
                             f"2020-03-{1 + i % 28:02d}", "2021/3/1"])
    whole = validate(path, LOANS, key=("loan_no",))
    calls = []
    chunks = list(iter_chunks(path, LOANS, chunk_size=50_000, key=("loan_no",),
                              progress=lambda *a: calls.append(a)))
    assert [len(c.rows) + len({e.row for e in c.errors}) for c in chunks] == [50_000, 50_000, 20_000]
    assert [r for c in chunks for r in c.rows] == whole.rows
    assert [e for c in chunks for e in c.errors] == whole.errors
    assert len(whole.rows) == 120_000 - 12 and len(whole.errors) == 12
    assert [c[0] for c in calls] == [50_000, 100_000, 120_000]
    assert all(0 < done <= total == path.stat().st_size for _, done, total in calls)
    assert calls[-1][1] == calls[-1][2]


def test_chunks_do_not_build_the_whole_file_at_once():
    data = csv_bytes([LOAN_HEADER] + ["A%d,Y,1,4,2020-03-01,2021-03-01" % i for i in range(25)])
    stream = iter_chunks(data, LOANS, chunk_size=10)
    first = next(stream)
    assert len(first.rows) == 10  # later rows are not parsed until asked for
    assert [len(c.rows) for c in stream] == [10, 5]


def test_validate_keeps_every_row_of_a_100k_row_file():
    # How fast is the benchmarks' to say (bench/), never a test's: a loaded machine's clock proves nothing.
    lines = [f'L{i},Y,"{i + 1:,}.00",4.35,2020-03-01,2021/3/1' for i in range(100_000)]
    data = csv_bytes([LOAN_HEADER, *lines])
    result = validate(data, LOANS, key=("loan_no",))
    assert result.ok and len(result.rows) == 100_000
    assert result.rows[-1]["loan_no"] == "L99999"


# --- writing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_error_report_is_written_and_reads_back(tmp_path, ext):
    errors = [
        RowError(5, "principal", "=HYPERLINK(\"x\")", "不是数字", "not a number"),
        RowError(3, None, "a,b", "列数不对", "wrong number of cells"),
        FileRejected("no_data_rows", gettext_lazy("只有表头，没有数据行"), row=1).as_row_error(),
    ]
    path = write_error_report(errors, tmp_path / f"errors.{ext}", schema=LOANS)
    table = read_table(path)
    assert table.header == list(ERROR_REPORT_HEADER)
    rows = [cells for _, cells in table.rows()]
    assert [r[0] for r in rows] == ["1", "3", "5"]
    assert rows[2][1] == "贷款金额（元） / principal"
    assert rows[2][3:] == ["不是数字", "not a number"]
    if ext == "csv":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        assert rows[2][2] == "'=HYPERLINK(\"x\")"  # never a live formula in Excel
    else:
        assert rows[2][2] == "=HYPERLINK(\"x\")"  # a text cell, not a formula


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_templates_read_back_with_the_schema_columns(tmp_path, ext, lang):
    path = write_template(REGISTRY, tmp_path / f"template.{ext}", lang=lang)
    table = read_table(path, require_rows=False)
    assert table.header == [c.zh if lang == "zh" else c.key for c in REGISTRY.columns]
    match = REGISTRY.match(table.header)
    assert list(match.positions) == REGISTRY.keys and match.unknown_columns == []
    with pytest.raises(FileRejected):
        read_table(path)


def test_a_filled_in_template_validates(tmp_path):
    path = write_template(REGISTRY, tmp_path / "t.csv")
    with open(path, "a", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(ROWS) + "\r\n")
    assert validate(path, REGISTRY).rows == EXPECTED


@pytest.mark.parametrize("ext", ["xlsx", "csv"])
def test_write_rows_round_trips_typed_values(tmp_path, ext):
    rows = [
        ["L1", Decimal("1234567.89"), dt.date(2020, 3, 1), True, None, 7],
        ["-5 元", Decimal("0.10"), dt.date(2100, 12, 31), False, "备注", 123456789012345678],
    ]
    path = tmp_path / f"export.{ext}"
    assert write_rows(path, ["编号", "金额", "日期", "首贷", "备注", "大整数"], rows) == 2
    back = [cells for _, cells in read_table(path).rows()]
    assert back[0][:4] == ["L1", "1234567.89", "2020-03-01", "Y"]
    assert back[1][:4] == ["'-5 元" if ext == "csv" else "-5 元", "0.1" if ext == "xlsx" else "0.10",
                           "2100-12-31", "N"]
    assert back[1][5] == "123456789012345678"  # beyond 15 digits Excel would round: kept as text


def test_write_rows_refuses_xlsx_beyond_excel_limit(tmp_path, monkeypatch):
    class Huge:
        def __len__(self):
            return tabular.XLSX_MAX_DATA_ROWS + 1

        def __iter__(self):
            raise AssertionError("must refuse before writing")

    with pytest.raises(tabular.ValidationFailed) as exc:
        write_rows(tmp_path / "x.xlsx", ["a"], Huge())
    assert exc.value.code == "too_many_rows_for_xlsx" and "CSV" in exc.value.en
    monkeypatch.setattr(tabular, "XLSX_MAX_DATA_ROWS", 10)
    with pytest.raises(tabular.ValidationFailed):
        write_rows(tmp_path / "y.xlsx", ["a"], ([i] for i in range(11)))
    assert not (tmp_path / "y.xlsx").exists()
    assert write_rows(tmp_path / "y.csv", ["a"], ([i] for i in range(11))) == 11


def test_file_digest_identifies_the_same_bytes(tmp_path):
    data = csv_bytes([ZH_HEADER, *ROWS])
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    assert file_digest(data) == file_digest(path) == file_digest(io.BytesIO(data))
    assert len(file_digest(data)) == 64
    assert file_digest(data + b"\r\n") != file_digest(data)


# --- every error in one pass; the template's example row ---------------------------------------------


def _maturity_after_start(row):
    if row["start_date"] and row["maturity_date"] and row["maturity_date"] <= row["start_date"]:
        yield ("maturity_date", gettext_lazy("到期日期必须晚于放款日期"))


LOAN_HEADER = "贷款合同编号,是否首贷,贷款金额（元）,年利率（%）,放款日期,到期日期"


def test_a_row_s_bad_cells_its_cross_field_problem_and_its_repeated_key_are_all_reported():
    result = validate(csv_bytes([
        LOAN_HEADER,
        "L-1,Y,100,4,2020-03-01,2021-03-01",
        "L-1,maybe,abc,4,2021-03-01,2020-03-01",  # bad flag, bad amount, maturity before start, key twice
    ]), LOANS, row_validator=_maturity_after_start, key=("loan_no",))
    assert set(errors_by_cell(result)) == {(3, "first_loan"), (3, "principal"), (3, "maturity_date"), (3, "loan_no")}


def test_a_cross_field_problem_on_a_cell_already_in_error_is_left_out():
    def needs_a_start(row):
        if row["start_date"] is None:
            yield ("start_date", gettext_lazy("必填项为空"))
        if row["principal"] > 1000:  # a check that cannot run on a row whose amount did not parse
            yield ("principal", gettext_lazy("不能大于 %(hi)s"), {"hi": 1000})

    result = validate(csv_bytes([LOAN_HEADER, "L-1,Y,abc,4,2020-02-30,2021-03-01"]), LOANS, row_validator=needs_a_start)
    # Each cell's own error, once: the validator's on the bad start is left out, its failed amount check skipped.
    assert [(e.column, e.zh) for e in result.errors] == [("principal", "不是数字（应为如 1,000.00 的数字）"),
                                                         ("start_date", "日期不存在：2020-02-30")]


EXAMPLED = Schema("loans", [
    Column("loan_no", "贷款合同编号", parser=parse_text(64), example=gettext_lazy("示例-2020-0001")),
    Column("first_loan", "是否首贷", parser=parse_bool_yn(), example=gettext_lazy("是")),
    Column("principal", "贷款金额（元）", parser=parse_decimal(2, min=0, min_exclusive=True), example="1000000.00"),
    Column("start_date", "放款日期", parser=parse_date(), example="2020-03-01"),
    Column("note", "备注", required=False),
])


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_the_template_s_example_row_is_refused_on_its_row_and_real_rows_are_read(tmp_path, ext):
    path = write_template(EXAMPLED, tmp_path / f"t.{ext}")
    [(_, example)] = list(read_table(path).rows())
    assert example[:2] == ["示例-2020-0001", "是"]  # in XLSX the amount and date are typed cells
    lines = [",".join(read_table(path).header), ",".join(example), "L-1,N,5,2020-03-02,"]
    result = validate(csv_bytes(lines), EXAMPLED, key=("loan_no",))
    assert [(e.row, e.column, e.zh) for e in result.errors] == [(2, None, "这是上传模板中的示例行，请删除后再上传")]
    assert [r["loan_no"] for r in result.rows] == ["L-1"]
    # A row that differs from the example in one cell is data, not the example.
    result = validate(csv_bytes(lines[:1] + [",".join(example[:2] + ["1000000.01"] + example[3:])]), EXAMPLED)
    assert result.ok


def test_the_template_s_example_reads_in_either_language():
    from django.utils import translation

    with translation.override("en"):
        english = ["EXAMPLE-2020-0001", "yes", "1,000,000", "2020/3/1", ""]
    result = validate(csv_bytes(["loan_no,first_loan,principal,start_date,note", '"' + '","'.join(english) + '"']),
                      EXAMPLED)
    assert [(e.row, e.column) for e in result.errors] == [(2, None)]


def test_an_xlsx_template_has_instructions_a_code_list_and_validations(tmp_path):
    import zipfile

    path = write_template(EXAMPLED, tmp_path / "t.xlsx")
    book = zipfile.ZipFile(path)
    sheets = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
    assert sheets == ["loans", "填写说明", "代码表"]
    data = book.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<dataValidation type="list"[^>]*sqref="B2:B1048576"><formula1>\'代码表\'!\$A\$2:\$A\$3<', data)
    assert re.search(r'<dataValidation type="date"[^>]*sqref="D2:D1048576"><formula1>36526</formula1>'
                     r'<formula2>73415</formula2>', data)
    assert re.search(r'<dataValidation type="decimal" operator="greaterThan"[^>]*sqref="C2:C1048576"', data)
    strings = book.read("xl/sharedStrings.xml").decode()
    for text in ("填写说明", "列名", "含义", "是否必填", "格式", "允许的值", "示例", "必填", "选填", "<t>是</t>", "<t>否</t>",
                 "日期，如 2020-03-01"):
        assert text in strings
