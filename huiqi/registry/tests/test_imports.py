"""Registry extract uploads: whole-file accept or refuse, every bad row reported, idempotent, jobs for big files."""

import random

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile

from huiqi.core import jobs
from huiqi.core.identifiers import generate_uscc
from huiqi.core.models import AuditEvent, Job
from huiqi.core.tabular import read_table
from huiqi.registry import services
from huiqi.registry.models import Enterprise, RegistryImport

pytestmark = pytest.mark.django_db

ZH = ["统一社会信用代码", "企业名称", "主体类型", "所属区", "行业代码", "从业人员（人）", "营业收入（万元）", "资产总额（万元）",
      "数据年度"]
EN = ["uscc", "name", "kind", "district", "industry", "employees", "revenue", "assets", "figures_year"]
A = "91440300708461136T"
B = "914403001922038216"


def csv_bytes(rows, header=ZH, encoding="utf-8"):
    lines = [",".join(header)] + [",".join(f'"{c}"' if "," in str(c) else str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


GOOD_ROWS = [
    [A, "深圳市南山云创电子有限公司", "企业", "440305", "C39", "1,500", "30000", "", "2019"],
    [B, "深圳市华信软件技术有限公司", "enterprise", "440304", "I65", "12", "49", "", "2019"],
]


def upload(user, data, name="registry.csv"):
    return services.start_registry_import(user, SimpleUploadedFile(name, data))


def test_good_utf8_file_stored_whole(users):
    r = upload(users["bureau"], csv_bytes(GOOD_ROWS))
    assert r.status == "stored" and r.rows_created == 2
    a = Enterprise.objects.get(uscc=A)
    assert a.name == "深圳市南山云创电子有限公司" and a.employees == 1500 and a.size_class == "medium"
    assert Enterprise.objects.get(uscc=B).size_class == "micro"


def test_gbk_file_with_chinese_headers(users):
    r = upload(users["bureau"], csv_bytes(GOOD_ROWS, encoding="gbk"))
    assert r.status == "stored", r.message
    assert Enterprise.objects.filter(name="深圳市华信软件技术有限公司").exists()


def test_bom_english_headers_any_order_extra_column_reported(users):
    order = [8, 3, 0, 1, 2, 4, 5, 6, 7]
    header = [EN[i] for i in order] + ["remark"]
    rows = [[row[i] for i in order] + ["x"] for row in GOOD_ROWS]
    r = upload(users["bureau"], b"\xef\xbb\xbf" + csv_bytes(rows, header=header))
    assert r.status == "stored", r.message
    assert r.unknown_columns == ["remark"]
    assert "remark" in r.message


def test_xlsx_file(users, tmp_path):
    path = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ZH)
    for i, row in enumerate(GOOD_ROWS, 1):
        ws.write_row(i, 0, row[:5])
        ws.write_number(i, 5, int(row[5].replace(",", "")))
        ws.write_number(i, 6, float(row[6]))
        ws.write_number(i, 8, 2019)
    wb.close()
    r = upload(users["bureau"], path.read_bytes(), name="r.xlsx")
    assert r.status == "stored", r.message
    assert Enterprise.objects.get(uscc=A).employees == 1500


def test_bad_rows_refuse_whole_file_with_every_error(users):
    rows = GOOD_ROWS + [
        ["91440300708461136X", "坏代码", "企业", "440305", "C39", "5", "5", "", "2019"],     # row 4: check char
        [generate_uscc(random.Random(1)), "未知区", "企业", "440399", "C39", "5", "5", "", "2019"],  # row 5
        [generate_uscc(random.Random(2)), "负数", "企业", "440305", "C39", "-5", "abc", "", "2019"],  # row 6: two
        [A, "重复", "企业", "440305", "C39", "5", "5", "", "2019"],                          # row 7: duplicate
        [generate_uscc(random.Random(3), kind="individual_business"), "类型不符", "企业", "440305", "F52", "1", "1",
         "", "2019"],                                                                       # row 8: kind
    ]
    r = upload(users["bureau"], csv_bytes(rows))
    assert r.status == "refused"
    assert not Enterprise.objects.filter(uscc__in=[A, B]).exists()  # the good rows were not kept either
    errors = services.read_error_rows(r)
    found = {(int(e["row"]), e["column"].split(" / ")[-1]) for e in errors}
    assert found == {(4, "uscc"), (5, "district"), (6, "employees"), (6, "revenue"), (7, "uscc"), (8, "kind")}
    assert all(e["zh"] and e["en"] for e in errors)
    xlsx = read_table(services.error_report_path(r, "xlsx"))
    assert len(list(xlsx.rows())) == 6


@pytest.mark.parametrize("data, name, code", [
    (b"", "empty.csv", "empty"),
    ("统一社会信用代码,企业名称,主体类型,所属区,行业代码,数据年度\n".encode(), "h.csv", "no_data_rows"),
    (b"%PDF-1.4 binary \x00\x01\x02", "x.pdf", "not_spreadsheet"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "x.csv", "not_spreadsheet"),
])
def test_file_level_problems(users, data, name, code):
    r = upload(users["bureau"], data, name=name)
    assert r.status == "refused", r.message
    assert r.error_count == 1
    assert not Enterprise.objects.filter(uscc__in=[A, B]).exists()


def test_missing_columns_are_reported_each_with_the_rows_problems(users):
    r = upload(users["bureau"], "name,district\n甲,4403XX\n".encode(), name="m.csv")
    assert r.status == "refused", r.message
    errors = {(e["row"], e["column"]) for e in services.read_error_rows(r)}
    assert {("1", "统一社会信用代码 / uscc"), ("1", "主体类型 / kind"), ("1", "行业代码 / industry"),
            ("1", "数据年度 / figures_year"), ("2", "所属区 / district")} == errors


def test_same_file_twice_changes_nothing_and_says_so(users):
    data = csv_bytes(GOOD_ROWS)
    upload(users["bureau"], data)
    changes = AuditEvent.objects.filter(action__in=["create", "update", "import"])
    before = changes.count()
    r = upload(users["bureau"], data)
    assert r.status == "unchanged" and "未做任何更改" in r.message
    assert Enterprise.objects.filter(uscc__in=[A, B]).count() == 2
    assert changes.count() == before
    # A different file with the same values: still no change, and it says so.
    r2 = upload(users["bureau"], csv_bytes(GOOD_ROWS, encoding="gbk"))
    assert r2.status == "unchanged" and r2.rows_unchanged == 2


def test_changed_row_updates_with_audit_before_after(users):
    upload(users["bureau"], csv_bytes(GOOD_ROWS))
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][6] = "50000"  # revenue up: medium → large
    r = upload(users["bureau"], csv_bytes(rows))
    assert (r.status, r.rows_updated, r.rows_unchanged) == ("stored", 1, 1)
    a = Enterprise.objects.get(uscc=A)
    assert a.size_class == "large"
    event = AuditEvent.objects.get(action="update", object_id=str(a.pk))
    assert event.before["size_class"] == "medium" and event.after["size_class"] == "large"
    assert event.actor == users["bureau"]


@pytest.mark.django_db(transaction=True)
def test_large_file_runs_as_job_with_progress(users, settings):
    """Outside a test transaction, as in production, so the job's progress rows are really committed."""
    settings.HUIQI_INLINE_IMPORT_BYTES = 10
    rng = random.Random(7)
    rows = [[generate_uscc(rng), f"深圳市测试{i}号科技有限公司", "企业", "440306", "C34", str(i % 400), "1,200.5", "",
             "2019"] for i in range(3000)]
    r = upload(users["bureau"], csv_bytes(rows))
    assert r.status == "pending" and r.job is not None and r.job.status == "queued"
    assert jobs.run_pending() == 1
    r.refresh_from_db()
    job = Job.objects.get(pk=r.job_id)
    assert job.status == "succeeded", job.error
    assert job.progress_total and job.progress_done == job.progress_total
    assert r.status == "stored" and r.rows_created == 3000


def test_only_bureau_and_admin_may_import(users):
    from huiqi.core.errors import PermissionDenied

    for role in ("enterprise", "district", "bank", "auditor"):
        with pytest.raises(PermissionDenied):
            upload(users[role], csv_bytes(GOOD_ROWS))
    assert not RegistryImport.objects.exists()


def test_export_round_trip(users, tmp_path):
    upload(users["bureau"], csv_bytes(GOOD_ROWS))
    for ext in ("csv", "xlsx"):
        path = tmp_path / f"out.{ext}"
        n = services.export_registry(Enterprise.objects.filter(uscc__in=[A, B]), path)
        assert n == 2
        table = read_table(path)
        rows = list(table.rows())
        assert table.header[0] == "统一社会信用代码"
        assert {r[1][0] for r in rows} == {A, B}
    # The exported file imports again as "unchanged".
    r = upload(users["bureau"], (tmp_path / "out.csv").read_bytes())
    assert r.status == "unchanged", r.message
