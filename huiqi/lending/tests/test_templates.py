"""The bank files' upload templates (an example row, instructions, a code list, drop-downs) and a refused
file's report, which names every problem of the file at once."""

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from huiqi.core.i18n import EN, ZH, render
from huiqi.core.tabular import EXAMPLE_ROW, read_table, write_template
from huiqi.core.uploads import read_errors
from huiqi.lending.imports import IMPORTERS, start_upload
from huiqi.lending.models import BorrowerKind, Loan
from huiqi.lending.tests.test_imports import LOAN_ZH, PAY_EN, csv, loan_row

pytestmark = pytest.mark.django_db

VALIDATION = re.compile(r'<dataValidation type="(\w+)"[^>]*sqref="([A-Z]+)2:[A-Z]+1048576"><formula1>([^<]*)<')


def download(client, kind, lang, fmt) -> bytes:
    response = client.get(reverse("lending:template", args=[kind, lang, fmt]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def up(user, kind, data, name="f.csv"):
    return start_upload(user, kind, SimpleUploadedFile(name, data))


def found(record) -> set[tuple[int, str]]:
    """(row, column key) of each line of a refused upload's report."""
    return {(int(e["row"] or 0), e["column"].rpartition(" / ")[2]) for e in read_errors(record)}


@pytest.mark.parametrize("kind", ["loans", "payments", "npl", "banks"])
def test_every_template_has_its_example_instructions_code_list_and_drop_downs(client_for, users, kind):
    schema = IMPORTERS[kind](users["bureau"]).schema()
    data = download(client_for("bureau"), kind, "zh", "xlsx")
    table = read_table(data)
    assert table.header == [c.zh for c in schema.columns]
    [(rowno, example)] = list(table.rows())
    assert rowno == 2 and [c.parser(v) if v else None for c, v in zip(schema.columns, example)] == [
        c.parser(str(c.example)) if c.example else None for c in schema.columns]

    book = zipfile.ZipFile(io.BytesIO(data))
    assert re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode()) == [kind, "填写说明", "代码表"]
    strings = book.read("xl/sharedStrings.xml").decode()
    assert "第 2 行是示例" in strings and "必填" in strings
    assert "第 2 行是示例" in book.read("xl/comments1.xml").decode()  # the note on the example row
    for col in schema.columns:
        assert col.help and str(col.help) in strings  # each column's meaning, in the instructions
    validations = {letter: (kind_, formula) for kind_, letter, formula in
                   VALIDATION.findall(book.read("xl/worksheets/sheet1.xml").decode())}
    for i, col in enumerate(schema.columns):
        letter = chr(ord("A") + i)
        if col.code_list():
            assert validations[letter][0] == "list" and validations[letter][1].startswith("'代码表'!$")
        elif col.parser.kind == "date":
            assert validations[letter][0] == "date"
    coded = {c.key for c in schema.columns if c.code_list()}
    assert coded == {"loans": {"bank_code", "borrower_kind", "purpose", "guarantee", "first_loan"},
                     "payments": {"bank_code"}, "npl": {"bank_code"}, "banks": set()}[kind]
    if kind == "loans":
        assert all(f"<t>{label}</t>" in strings for label in ("ICBC-SZ", "企业", "小微企业主", "经营性", "抵押", "是", "否"))


def test_a_bank_s_code_list_offers_its_own_bank_and_the_words_are_the_reader_s(users):
    schema = IMPORTERS["loans"](users["bank"]).schema()
    assert [code for code, _name in schema.column("bank_code").code_list()] == ["ICBC-SZ"]
    with translation.override(EN):
        kinds = [v for v, _n in schema.column("borrower_kind").code_list()]
        assert kinds == [str(label) for _v, label in BorrowerKind.choices] and "个体工商户" not in kinds
        assert str(schema.column("loan_no").example) == "EXAMPLE-2020-0001"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_template_sent_back_as_it_is_is_refused_on_its_example_row(client_for, users, lang, fmt):
    data = download(client_for("bank"), "loans", lang, fmt)
    r = up(users["bank"], "loans", data, name=f"t.{fmt}")
    assert r.status == "refused", r.message
    [error] = read_errors(r)
    assert (error["row"], error["zh"], error["en"]) == ("2", render(EXAMPLE_ROW, None, ZH), render(EXAMPLE_ROW, None, EN))
    assert not Loan.objects.exists()


def test_the_example_row_left_above_real_rows_is_named_and_nothing_is_stored(client_for, users):
    template = download(client_for("bank"), "loans", "zh", "csv").decode("utf-8-sig").splitlines()
    data = "\n".join(template + [",".join(csv([], [loan_row()]).decode().split("\n")[1:2])]) + "\n"
    r = up(users["bank"], "loans", data.encode())
    assert r.status == "refused" and found(r) == {(2, "")}
    assert not Loan.objects.exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("language", [ZH, EN])
def test_a_filled_in_template_round_trips(users, tmp_path, language, fmt):
    """The template's own example, given a loan number of its own, is a loan the upload stores: the
    cells the template writes (typed dates and amounts, choices in the reader's words) read back."""
    schema = IMPORTERS["loans"](users["bank"]).schema()
    with translation.override(language):
        path = write_template(schema, tmp_path / f"t.{fmt}", "zh" if language == ZH else "en")
        example_no = str(schema.column("loan_no").example)
    if fmt == "csv":
        data = path.read_bytes().replace(example_no.encode(), b"L-9")
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(path) as book, zipfile.ZipFile(out, "w") as copy:
            for item in book.infolist():
                part = book.read(item)
                if item.filename == "xl/sharedStrings.xml":
                    part = part.replace(f"<t>{example_no}</t>".encode(), b"<t>L-9</t>")
                copy.writestr(item, part)
        data = out.getvalue()
    r = up(users["bank"], "loans", data, name=f"t.{fmt}")
    assert r.status == "stored", (r.message, read_errors(r))
    loan = Loan.objects.get(loan_no="L-9")
    assert (loan.borrower_kind, loan.purpose, loan.guarantee, loan.first_loan) == ("enterprise", "operating", "credit",
                                                                                   True)
    assert (loan.principal_fen, str(loan.annual_rate), loan.start_date.isoformat()) == (100_000_000, "3.8500",
                                                                                       "2020-03-01")


def test_a_refused_loans_file_reports_every_problem_in_one_pass(users):
    """A header column missing, a bad amount beside a maturity before the start, an unknown bank beside a
    bad rate, a loan twice in the file: one upload's report names them all (once, each problem used
    to hide the next)."""
    header = [h for h in LOAN_ZH if h != "担保方式"]
    rows = [loan_row("L-1"), loan_row("L-2", principal="abc", start="2021-03-10", maturity="2020-03-10"),
            loan_row("L-3", bank="NOPE", rate="0"), loan_row("L-1")]
    rows = [r[:7] + r[8:] for r in rows]  # without the guarantee
    r = up(users["bank"], "loans", csv(header, rows))
    assert r.status == "refused"
    assert found(r) == {(1, "guarantee"), (3, "principal"), (3, "maturity_date"), (4, "bank_code"),
                        (4, "annual_rate"), (5, "bank_code")}
    assert r.error_count == 6 and r.rows_total == 4
    assert not Loan.objects.exists()


def test_an_unknown_loan_is_reported_beside_the_row_s_bad_cells(users):
    assert up(users["bank"], "loans", csv(LOAN_ZH, [loan_row("L-1")])).status == "stored"
    r = up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "NOPE-1", "2020-03-10", "2020-02-30", "2020-04-10", "1.00"],
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "-1"],
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "2.00"],
    ]))
    assert r.status == "refused"
    assert found(r) == {(2, "accrual_end"), (2, "loan_no"), (3, "interest"), (4, "bank_code")}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_downloaded_report_is_titled_in_the_reader_s_language_with_the_reasons_in_both(client_for, users, fmt):
    r = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row(principal="=1+1"), loan_row("L-2", bank="NOPE")]))
    client = client_for("bank")
    for language, titles in ((ZH, ["行号", "列", "值", "原因（中文）", "原因（英文）"]),
                             (EN, ["Row", "Column", "Value", "Reason (Chinese)", "Reason (English)"])):
        client.cookies["django_language"] = language
        response = client.get(reverse("lending:upload_error_report", args=[r.pk, fmt]))
        assert response.status_code == 200
        table = read_table(b"".join(response.streaming_content))
        assert table.header == titles
        rows = [cells for _, cells in table.rows()]
        assert [(row[0], row[1]) for row in rows] == [("2", "贷款金额（元） / principal"), ("3", "银行机构代码 / bank_code")]
        assert rows[0][2] == ("'=1+1" if fmt == "csv" else "=1+1")  # never a live formula
        assert rows[1][3:] == ["未知的银行机构代码 NOPE", "unknown bank code NOPE"]


def test_errors_found_before_the_file_stops_being_readable_are_reported_with_its_refusal(users):
    from django.utils.translation import gettext_lazy

    from huiqi.core import uploads
    from huiqi.core.tabular import FileRejected
    from huiqi.lending.imports import LoanImporter
    from huiqi.lending.models import LedgerUpload

    class Stopping(LoanImporter):
        """Reads a row at a time and meets a file-level problem at the second (as a damaged workbook)."""

        chunk_size = 1

        def check_chunk(self, rows):
            if rows[0]["_row"] == 3:
                raise FileRejected("xlsx_damaged", gettext_lazy("空文件"))
            return super().check_chunk(rows)

    data = csv(LOAN_ZH, [loan_row(principal="abc"), loan_row("L-2")])
    record = uploads.save_upload(LedgerUpload, Stopping, SimpleUploadedFile("f.csv", data), users["bank"],
                                 kind="loans")
    record = uploads.process(Stopping(users["bank"]), record, users["bank"])
    assert record.status == "refused" and record.error_count == 2
    assert found(record) == {(0, ""), (2, "principal")}
    with translation.override(EN):
        from huiqi.core.i18n import shown

        assert "1 more" in shown(record.message)
