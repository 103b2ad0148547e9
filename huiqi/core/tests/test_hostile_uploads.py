"""Issue 16, items 4–6: hostile files and bodies are refused with a clear message naming the row or field,
never a 500, and a refused upload is recorded as refused with its report.

* a refusal report longer than Excel's 1,048,575 rows is written as CSV only (the limit is lowered here,
  the comparison is the real one);
* an XLSX whose parts unpack far beyond their compressed size (a "zip bomb"), beyond the size allowed,
  or to other sizes than the archive declares is refused before (or as) it is inflated, and the sheet is
  read as a stream;
* a NUL in a cell (which PostgreSQL's COPY refuses), a file of one invalid byte, invalid UTF-8 in a form
  or a JSON body: each a refusal naming its row and column, or its field.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from huiqi.core import jobs, tabular
from huiqi.core.i18n import shown
from huiqi.core.tabular import FileRejected, read_table
from huiqi.core.uploads import read_errors
from huiqi.lending.imports import start_upload
from huiqi.lending.models import LedgerUpload, Loan
from huiqi.registry import services as registry_services
from huiqi.registry.models import Enterprise, RegistryImport

pytestmark = pytest.mark.django_db

LOAN_ZH = ["银行机构代码", "贷款合同编号", "借款人证件号码", "借款人名称", "借款人类型", "所属企业证件号码", "贷款用途", "担保方式",
           "是否首贷", "贷款金额（元）", "年利率（%）", "放款日期", "到期日期", "原贷款合同编号"]
USCC = "91440300708461136T"
REGISTRY_ZH = ["统一社会信用代码", "企业名称", "主体类型", "所属区", "行业代码", "从业人员（人）", "营业收入（万元）",
               "资产总额（万元）", "数据年度"]


def said(record, language: str = "en") -> str:
    """An upload's outcome as a reader of ``language`` sees it (it is kept as its msgid and params)."""
    with translation.override(language):
        return shown(record.message)


def loan_line(rowno: int, name: str = "深圳市南山云创电子有限公司", principal: str = "1000000.00") -> str:
    return (f"ICBC-SZ,L-{rowno},{USCC},{name},企业,,经营性,信用,是,{principal},4.35,2020-03-10,2021-03-10,")


def loans_csv(rows: int, odd: dict[int, str] | None = None) -> bytes:
    """A loans file of ``rows`` data rows (spreadsheet rows 2…rows+1); ``odd`` replaces whole lines by row."""
    odd = odd or {}
    lines = [",".join(LOAN_ZH)] + [odd.get(n, loan_line(n)) for n in range(2, rows + 2)]
    return ("\n".join(lines) + "\n").encode()


def upload_loans(user, data: bytes, name="loans.csv", **kw) -> LedgerUpload:
    return start_upload(user, "loans", SimpleUploadedFile(name, data), **kw)


def upload_registry(user, data: bytes, name="registry.csv") -> RegistryImport:
    return registry_services.start_registry_import(user, SimpleUploadedFile(name, data))


def finished(record):
    """The upload once its job (if it has one) has run."""
    if record.job_id:
        jobs.run_pending()
    record.refresh_from_db()
    return record


# --- item 4: a refusal report beyond Excel's rows ---------------------------------------------------------


@pytest.mark.parametrize("bad_rows, formats", [(3, {"xlsx", "csv"}), (4, {"csv"})])
def test_a_report_beyond_excel_s_rows_is_csv_only_and_the_upload_refused(users, client_for, monkeypatch,
                                                                          bad_rows, formats):
    monkeypatch.setattr(tabular, "XLSX_MAX_DATA_ROWS", 3)  # Excel's 1,048,575, lowered for a fast test
    data = loans_csv(6, {n: loan_line(n, principal="0") for n in range(2, 2 + bad_rows)})
    record = upload_loans(users["bank"], data)
    assert record.status == "refused" and record.error_count == bad_rows, record.message
    assert {f for f in ("xlsx", "csv") if Path(f"{record.error_report}.{f}").exists()} == formats
    assert record.error_report_formats == [f for f in ("xlsx", "csv") if f in formats]
    assert [e["row"] for e in read_errors(record)] == [str(n) for n in range(2, 2 + bad_rows)]
    assert not Loan.objects.exists()
    page = client_for("bank").get(f"/lending/upload/{record.pk}/").content.decode()
    assert ("errors.xlsx" in page) == ("xlsx" in formats) and "errors.csv" in page
    assert ("报告只有 CSV 格式" in page) == ("xlsx" not in formats)
    assert client_for("bank").get(f"/lending/upload/{record.pk}/errors.csv").status_code == 200
    assert client_for("bank").get(f"/lending/upload/{record.pk}/errors.xlsx").status_code == (
        200 if "xlsx" in formats else 404)


def test_the_xlsx_limit_is_excel_s():
    assert tabular.XLSX_MAX_DATA_ROWS == 1_048_576 - 1


# --- item 5: XLSX decompression -----------------------------------------------------------------------

_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{_PACKAGE}/content-types"><Default Extension="xml" '
                           'ContentType="application/xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_PACKAGE}/relationships"><Relationship Id="rId1" '
                   f'Type="{_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_RELATIONSHIPS}"><sheets>'
                       '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PACKAGE}/relationships"><Relationship Id="rId1" '
                                  f'Type="{_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
                                  '</Relationships>',
}
SHEET = "xl/worksheets/sheet1.xml"


def _inline(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(rows: list[list[str]], filler_rows: int = 0) -> bytes:
    """A minimal workbook (written part by part, as a hostile one would be): ``rows`` of text, then
    ``filler_rows`` blank-celled rows, which deflate about a thousandfold."""
    head = "".join(f"<row>{''.join(_inline(c) for c in row)}</row>" for row in rows)
    filler = "<row>" + _inline("") * 20 + "</row>"
    sheet = f'<worksheet xmlns="{_MAIN}"><sheetData>{head}{filler * filler_rows}</sheetData></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, part in {**_PARTS, SHEET: sheet}.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + part)
    return out.getvalue()


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """The archive with another unpacked size declared for ``name`` (local header and central directory)."""
    data = bytearray(data)
    encoded = name.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.find(signature)
        while at >= 0:
            if data[at + name_at:at + name_at + len(encoded)] == encoded:
                data[at + size_at:at + size_at + 4] = struct.pack("<I", size)
            at = data.find(signature, at + 4)
    return bytes(data)


def test_a_workbook_that_unpacks_a_hundredfold_is_refused_before_it_is_inflated(users, monkeypatch):
    bomb = workbook([LOAN_ZH], filler_rows=2_000)  # ~1.5 MB of sheet in a few kB
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:
        info = z.getinfo(SHEET)
    assert info.file_size > 1 << 20 and info.file_size > 100 * info.compress_size

    opened = zipfile.ZipFile.open

    def open_but_the_sheet(archive, name, *args, **kwargs):
        assert getattr(name, "filename", name) != SHEET, "the sheet was inflated"
        return opened(archive, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_but_the_sheet)
    with pytest.raises(FileRejected) as refused:
        read_table(bomb, "bomb.xlsx")
    assert refused.value.code == "xlsx_too_large" and SHEET in refused.value.en and "100" in refused.value.en
    monkeypatch.undo()
    record = finished(upload_loans(users["bank"], bomb, name="bomb.xlsx"))
    assert record.status == "refused" and "压缩比" in said(record, "zh-hans") and "ratio" in said(record)
    assert [e["en"] for e in read_errors(record)] == [refused.value.en]
    assert not Loan.objects.exists()


def test_a_workbook_beyond_the_unpacked_limit_is_refused(users, monkeypatch):
    from huiqi.core import xlsx

    book = workbook([LOAN_ZH, ["x"] * 14], filler_rows=50)
    monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", 4_000)
    with pytest.raises(FileRejected) as refused:
        read_table(book, "big.xlsx")
    assert refused.value.code == "xlsx_too_large" and "4,000" in refused.value.en
    record = finished(upload_registry(users["bureau"], book, name="big.xlsx"))
    assert record.status == "refused" and "4,000" in said(record)
    # At the limit it is read, however often the sheet is: finding the header, then the rows.
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        read = [p for p in [*_PARTS, SHEET] if p != "[Content_Types].xml"]
        monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", sum(z.getinfo(p).file_size for p in read))
    assert [n for n, _ in read_table(book, "big.xlsx").rows()] == [2]


def test_a_workbook_that_unpacks_beyond_the_inline_limit_runs_as_a_job(users, settings):
    """Whether an upload is read in the request is decided by what it unpacks to, not its compressed size."""
    book = workbook([LOAN_ZH, loan_line(2).split(",")], filler_rows=200)
    settings.HUIQI_INLINE_IMPORT_BYTES = 20_000
    assert len(book) < 20_000 < sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(book)).infolist())
    record = upload_loans(users["bank"], book, name="loans.xlsx")
    assert record.job_id and record.status == "pending"
    assert finished(record).status == "stored", record.message
    record = upload_registry(users["bureau"], book, name="registry.xlsx")
    assert record.job_id and finished(record).status == "refused"  # not a registry file


def test_a_part_that_unpacks_to_more_than_it_declares_is_refused(users):
    book = workbook([LOAN_ZH, [loan_line(2).split(",")[0]]], filler_rows=30)
    lying = declare_size(book, SHEET, 600)  # the sheet's first 600 bytes, the rest never inflated
    with pytest.raises(FileRejected) as refused:
        list(read_table(lying, "lying.xlsx").rows())
    assert refused.value.code == "xlsx_damaged"
    record = finished(upload_loans(users["bank"], lying, name="lying.xlsx"))
    assert record.status == "refused" and "damaged" in said(record)


def test_the_sheet_is_read_as_a_stream(tmp_path, monkeypatch):
    """The first rows come when a block of the sheet has been inflated, not the whole sheet."""
    path = tmp_path / "long.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, LOAN_ZH)
    for n in range(1, 6_000):  # a sheet of 2.6 MB
        sheet.write_row(n, 0, loan_line(n + 1).split(","))
    book.close()
    inflated = []
    read = zipfile.ZipExtFile.read

    def counted(part, n=-1):
        data = read(part, n)
        if part.name == SHEET:
            inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counted)
    with zipfile.ZipFile(path) as z:
        sheet_size = z.getinfo(SHEET).file_size
    table = read_table(path)
    header_read = sum(inflated)  # a block, to find the header
    assert 0 < header_read < sheet_size
    rows = table.rows()
    rowno, cells = next(rows)
    assert rowno == 2 and cells[1] == "L-2"
    assert 0 < sum(inflated) - header_read <= sheet_size // 2 and 0 < table.bytes_done <= table.bytes_total // 2
    assert sum(1 for _ in rows) == 5_998 and sum(inflated) - header_read == sheet_size


def _shown(rows):
    return [(n, cells[:max((i + 1 for i, c in enumerate(cells) if c), default=0)]) for n, cells in rows]


@pytest.mark.parametrize("date_1904", [False, True])
def test_cells_read_from_the_stream_as_excel_shows_them(tmp_path, date_1904):
    """Shared strings, numbers, booleans, dates and date-times (either date system), gaps, escapes."""
    path = tmp_path / "cells.xlsx"
    book = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    sheet = book.add_worksheet()
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["a", "b", "c"])
    sheet.write_string(2, 0, "深圳\r\n_x0041_")
    sheet.write_number(2, 2, 1234.5)
    sheet.write_boolean(3, 1, True)
    sheet.write_datetime(3, 0, dt.datetime(2020, 3, 1), date)
    sheet.write_datetime(3, 2, dt.datetime(2020, 3, 1, 12), stamp)
    sheet.write_formula(4, 0, '="x"&"y"', None, "xy")
    book.close()
    assert _shown(read_table(path).rows()) == [(3, ["深圳\r\n_x0041_", "", "1234.5"]),
                                               (4, ["2020-03-01", "TRUE", "2020-03-01 12:00:00"]),
                                               (5, ["xy"])]


# --- item 6: NUL, invalid bytes, invalid UTF-8 ------------------------------------------------------------


@pytest.mark.parametrize("as_job", [False, True])
def test_a_nul_in_row_1001_refuses_the_loans_file_naming_row_and_column(users, as_job):
    data = loans_csv(1_200, {1_001: loan_line(1_001, name="深圳市南山\x00云创电子有限公司")})
    assert data.index(b"\x00") > 65536  # beyond the bytes looked at to tell text from binary
    record = finished(upload_loans(users["bank"], data, inline_limit=0 if as_job else None))
    assert bool(record.job_id) == as_job
    assert record.status == "refused" and record.error_count == 1, record.message
    [error] = read_errors(record)
    assert error["row"] == "1001" and error["column"] == "借款人名称 / borrower_name"
    assert "NUL" in error["zh"] and "NUL" in error["en"] and "\x00" not in error["value"]
    assert not Loan.objects.exists()


BLANK_LINES = ",,,,,,,,\n" * 8_000  # 72 KB of rows without a value, before the header


def test_a_nul_in_a_registry_row_is_refused_naming_row_and_column(users):
    rows = [",".join(REGISTRY_ZH), f"{USCC},深圳市南山云创电子有限公司,企业,440305,C39,15,300,,2019",
            "914403001922038216,深圳市华信\x00软件有限公司,企业,440304,I65,12,49,,2019"]
    data = (BLANK_LINES + "\n".join(rows) + "\n").encode()  # the NUL is beyond the first 64 KB
    record = upload_registry(users["bureau"], data)
    assert record.status == "refused", record.message
    assert [(e["row"], e["column"]) for e in read_errors(record)] == [("8003", "企业名称 / name")]
    assert not Enterprise.objects.filter(uscc=USCC).exists()


def test_a_nul_in_the_header_refuses_the_file(users):
    data = (BLANK_LINES + ",".join(REGISTRY_ZH) + ",备注\x00\n"
            + f"{USCC},深圳市南山云创电子有限公司,企业,440305,C39,15,300,,2019,x\n").encode()
    record = upload_registry(users["bureau"], data)
    assert record.status == "refused" and "NUL" in said(record) and "8001" in said(record)


@pytest.mark.parametrize("data", [b"\xe6", b"\xef\xbb\xbf\xe6", loans_csv(2)[:-4] + b"\xe6"])
def test_a_file_ending_in_a_broken_character_is_refused(users, client_for, data):
    record = upload_loans(users["bank"], data)
    assert record.status == "refused" and "UTF-8" in said(record), record.message
    assert record.error_count == 1 and read_errors(record)
    assert upload_registry(users["bureau"], data).status == "refused"
    sent = {"kind": "loans", "file": SimpleUploadedFile("a.csv", data)}
    r = client_for("bank").post("/api/v1/ledger-uploads/", sent)
    assert r.status_code == 422 and r.json()["upload"]["status"] == "refused"


REQUEST_FORM = {"category": "financing", "title": "续贷", "description": "说明", "contact_name": "陈",
                "contact_phone": "13800000000", "contact_email": ""}


def _urlencoded(fields: dict) -> bytes:
    """A form body: text values percent-encoded as a browser sends them, bytes values sent as they are."""
    from urllib.parse import quote

    return b"&".join(k.encode() + b"=" + (v if isinstance(v, bytes) else quote(v).encode())
                     for k, v in fields.items())


@pytest.mark.parametrize("title", [b"%E6%9C", b"\xe6\x9c"])
def test_invalid_utf8_in_a_form_is_a_400_naming_the_field(users, city, client_for, title):
    from huiqi.requests.models import EnterpriseRequest

    fields = {"enterprise": city["ns1"].uscc, **REQUEST_FORM, "title": title, "contact_name": b"%FF"}
    r = client_for("enterprise").post("/requests/new/", _urlencoded(fields),
                                      content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400
    page = r.content.decode()
    assert "title" in page and "contact_name" in page and "UTF-8" in page
    assert not EnterpriseRequest.objects.exists()


def test_invalid_utf8_in_a_multipart_field_is_a_400_naming_the_field(users, city, client_for):
    from huiqi.requests.models import EnterpriseRequest

    fields = {"enterprise": city["ns1"].uscc.encode(), **{k: v.encode() for k, v in REQUEST_FORM.items()},
              "description": b"\xe6\x9c\xe6"}
    body = b"".join(b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v)
                    for k, v in fields.items()) + b"--B--\r\n"
    r = client_for("enterprise").post("/requests/new/", body, content_type="multipart/form-data; boundary=B")
    assert r.status_code == 400 and "description" in r.content.decode()
    assert not EnterpriseRequest.objects.exists()


def test_invalid_utf8_in_a_json_body_is_a_400_naming_the_field(users, client_for):
    from huiqi.requests.models import EnterpriseRequest

    body = json.dumps({"category": "rent", "title": "TITLE", "description": "国有物业房租能否减免？"}).encode()
    r = client_for("enterprise").post("/api/v1/requests/", body.replace(b"TITLE", b"\xe6\x88"),
                                      content_type="application/json")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "request.not_utf8" and error["field"] == "title"
    assert "UTF-8" in error["message_zh"] and "UTF-8" in error["message_en"]
    assert not EnterpriseRequest.objects.exists()
    assert client_for("enterprise").post("/api/v1/requests/", body.replace(b"TITLE", "房租".encode()),
                                         content_type="application/json").status_code == 201
