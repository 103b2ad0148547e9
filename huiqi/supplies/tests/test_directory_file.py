"""The directory file from the outside: the upload page, the API and ``huiqi import supplies-directory FILE
--as USER``. Each producer's rows go through the directory's services; a file with any bad row is refused
whole with every error named by row and column and nothing kept; the same file twice changes nothing."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

import pytest

from huiqi.core.models import AuditEvent
from huiqi.core.uploads import read_errors
from huiqi.supplies import imports, selectors
from huiqi.supplies.models import DirectoryUpload, Producer, ProducerProduct

from .conftest import D

HEADER = ["统一社会信用代码", "列入目录日期", "有效期至", "移出原因", "转产", "联系人", "联系电话", "产品代码", "日产能",
          "报告起始日", "报告截止日"]


def _csv(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _good(city, directory):
    ns1, ns2, ba1 = directory["ns1"].uscc, directory["ns2"].uscc, city["ba1"].uscc
    return [
        # a new producer, two products
        [ba1, "2020-02-03", "", "", "是", "赵六", "0755-1234", "MASK-DISP", "300,000", "", ""],
        [ba1, "2020-02-03", "", "", "Y", "赵六", "0755-1234", "HAND-SAN", "2", "2020-02-10", ""],
        # ns1: its entry changes (contact), a product changes, one is added
        [ns1, "2020-01-25", "", "", "是", "张三丰", "0755-8888 0000", "MASK-SURG", "250000", "", ""],
        [ns1, "2020-01-25", "", "", "是", "张三丰", "0755-8888 0000", "GLOVES", "9000", "", ""],
        # ns2: nothing changes (a blank 转产 reads 否, as it is)
        [ns2, "2020-02-01", "", "", "", "", "", "GOWN-MED", "5000", "", ""],
    ]


def test_a_good_file_lists_updates_and_sets_products(city, users, directory, client_for):
    c = client_for("bureau")
    assert 'name="file"' in c.get(reverse("supplies:uploads")).content.decode()
    sent = c.post(reverse("supplies:uploads"), {"kind": "directory",
                                                "file": SimpleUploadedFile("d.csv", _csv(_good(city, directory)))})
    assert sent.status_code == 302, sent.content.decode()[:2000]
    record = DirectoryUpload.objects.get()
    assert (record.status, record.rows_total, record.rows_created, record.rows_updated,
            record.rows_unchanged) == ("stored", 5, 3, 1, 1)
    ba1 = Producer.objects.get(uscc=city["ba1"].uscc)
    assert (ba1.active_from, ba1.converted, ba1.contact_name) == (D(2020, 2, 3), True, "赵六")
    assert {(x.product.code, x.capacity_per_day, x.reported_from) for x in ba1.products.all()} == {
        ("MASK-DISP", 300_000, D(2020, 2, 3)), ("HAND-SAN", 2, D(2020, 2, 10))}
    ns1 = Producer.objects.get(pk=directory["ns1"].pk)
    assert ns1.contact_name == "张三丰"
    assert {(x.product.code, x.capacity_per_day) for x in ns1.products.all()} == {("MASK-SURG", 250_000),
                                                                                 ("GLOVES", 9_000)}
    assert AuditEvent.objects.filter(action="import", model="supplies.DirectoryUpload").count() == 1
    assert selectors.active_producers([ba1.uscc], D(2020, 2, 3)) == {ba1.uscc}
    detail = c.get(reverse("supplies:upload_detail", args=[record.pk])).content.decode()
    assert "已入库" in detail


def test_every_error_with_row_and_column_and_nothing_stored(city, users, directory):
    ns2, ba1, ft1 = directory["ns2"].uscc, city["ba1"].uscc, directory["ft1"].uscc
    rows = [
        [ba1, "2020-02-03", "", "", "否", "", "", "MASK-DISP", "1000", "", ""],            # row 2: fine
        [ba1, "2020-02-04", "", "", "否", "", "", "GLOVES", "1000", "", ""],               # row 3: disagrees
        ["91440300MA5FAKE000", "2020-02-03", "", "", "否", "", "", "MASK-DISP", "1", "", ""],  # row 4: bad USCC
        [ns2, "2020-02-01", "", "", "否", "", "", "NOPE", "10", "", ""],                    # row 5: unknown product
        [ns2, "2020-02-01", "", "", "否", "", "", "MASK-N95", "-4", "", ""],                # row 6: negative capacity
        [ft1, "2020-01-25", "2020-02-29", "", "否", "", "", "DISINF", "12", "", ""],        # row 7: no reason
        [ba1, "2020-02-03", "", "", "否", "", "", "MASK-DISP", "5", "", ""],               # row 8: repeated
    ]
    events, lines = AuditEvent.objects.filter(model__startswith="supplies.").count(), ProducerProduct.objects.count()
    record = imports.start_upload(users["bureau"], SimpleUploadedFile("bad.csv", _csv(rows)))
    assert record.status == "refused", record.message
    # The report names each column in both languages: "列入目录日期 / active_from".
    found = {(e["row"], e["column"].rsplit(" / ", 1)[-1]) for e in read_errors(record)}
    assert found == {("3", "active_from"), ("4", "uscc"), ("5", "product"), ("6", "capacity_per_day"),
                     ("7", "removal_reason"), ("8", "uscc")}, found
    assert not Producer.objects.filter(uscc=ba1).exists()
    assert ProducerProduct.objects.count() == lines
    assert AuditEvent.objects.filter(model__startswith="supplies.").count() == events


def test_the_same_file_twice_is_refused_as_identical(city, users, directory):
    data = _csv(_good(city, directory))
    first = imports.start_upload(users["bureau"], SimpleUploadedFile("d.csv", data))
    assert first.status == "stored"
    lines = ProducerProduct.objects.count()
    again = imports.start_upload(users["bureau"], SimpleUploadedFile("d-again.csv", data))
    assert again.status == "unchanged" and "完全相同" in again.message
    assert ProducerProduct.objects.count() == lines


def test_large_files_run_as_a_job(city, users, directory):
    from huiqi.core import jobs

    record = imports.start_upload(users["bureau"], SimpleUploadedFile("d.csv", _csv(_good(city, directory))),
                                  inline_limit=10)
    assert record.status == "pending" and record.job is not None
    jobs.run_pending()
    record.refresh_from_db()
    assert record.status == "stored", record.message


def test_only_the_bureau_sends_the_file(city, users, directory, client_for):
    data = _csv(_good(city, directory))
    for role in ("district", "enterprise", "auditor"):
        resp = client_for(role).post(reverse("supplies:uploads"), {"kind": "directory",
                                                                   "file": SimpleUploadedFile("d.csv", data)})
        assert resp.status_code == 403, role
    assert not DirectoryUpload.objects.exists()


def test_headless_import(city, users, directory, tmp_path):
    path = tmp_path / "directory.csv"
    path.write_bytes(_csv(_good(city, directory)))
    with pytest.raises(CommandError):
        call_command("import_data", "supplies-directory", str(path), "--as", users["district"].username)
    call_command("import_data", "supplies-directory", str(path), "--as", users["bureau"].username,
                 stdout=io.StringIO())
    assert DirectoryUpload.objects.get(status="stored").uploaded_by == users["bureau"]
    assert Producer.objects.filter(uscc=city["ba1"].uscc).exists()


def test_api_upload(city, users, directory, client_for):
    c = client_for("bureau")
    bad = c.post("/api/v1/supplies-directory-files/", {"file": SimpleUploadedFile(
        "bad.csv", _csv([[city["ba1"].uscc, "2020-02-03", "", "", "否", "", "", "NOPE", "1", "", ""]]))})
    assert bad.status_code == 422 and bad.json()["upload"]["errors"][0]["column"].endswith("product")
    good = c.post("/api/v1/supplies-directory-files/",
                  {"file": SimpleUploadedFile("d.csv", _csv(_good(city, directory)))})
    assert good.status_code == 201 and good.json()["status"] == "stored"
    assert client_for("district").post("/api/v1/supplies-directory-files/", {
        "file": SimpleUploadedFile("d2.csv", b"x")}).status_code == 403


def test_templates_and_error_report(users, directory, client_for):
    c = client_for("bureau")
    def text(lang):
        url = reverse("supplies:template", args=["directory", lang, "csv"])
        return b"".join(c.get(url).streaming_content).decode("utf-8-sig")

    zh = text("zh")
    assert zh.splitlines()[0].split(",")[:4] == ["统一社会信用代码", "列入目录日期", "有效期至", "移出原因"]
    en = text("en")
    assert en.splitlines()[0].startswith("uscc,active_from,active_to,removal_reason,converted")
    xlsx = c.get(reverse("supplies:template", args=["directory", "en", "xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert c.get(reverse("supplies:template", args=["loans", "zh", "csv"])).status_code == 404
    refused = imports.start_upload(users["bureau"], SimpleUploadedFile("bad.csv", _csv([
        [directory["ns1"].uscc, "2020-01-25", "", "", "是", "张三", "0755-8888 0000", "NOPE", "1", "", ""]])))
    report = c.get(reverse("supplies:upload_error_report", args=[refused.pk, "csv"]))
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert lines[1][:3] == ["2", "产品代码 / product", "NOPE"] and "不在防疫物资目录中" in lines[1][3]
    assert c.get(reverse("supplies:upload_error_report", args=[refused.pk, "xlsx"])).status_code == 200
