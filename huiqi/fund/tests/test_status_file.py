"""A channel's status file (放款、还款、展期、结清 by application number) from the outside: the upload page,
the API and ``huiqi import fund-status FILE --as USER``. Each row goes through the page action's service;
a file with any bad row is refused whole with every error named and nothing kept; a channel can touch only
its own applications, and a number of the other channel's reads the same as a number of no one's."""

from __future__ import annotations

import csv

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from huiqi.core.models import AuditEvent
from huiqi.core.tabular import write_rows
from huiqi.fund.models import Application, Repayment, StatusUpload, Tranche

from .conftest import D

HEADER_ZH = ["申请编号", "事项", "日期", "金额（元）", "展期后到期日", "说明"]
HEADER_EN = ["application_no", "event", "date", "amount", "maturity_date", "note"]


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def _csv(rows, header=HEADER_ZH) -> bytes:
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _good_rows(apps):
    f05 = apps["F-05"].number
    return [[f05, "还本", "2020-04-15", "1,000,000.00", "", ""],
            [f05, "interest", "2020-04-20", "10828.13", "", ""],
            [f05, "展期", "2020-06-30", "", "2020-12-16", "疫情影响回款延迟，经审议同意展期三个月"]]


def test_a_channel_uploads_its_status_file_through_the_page(example):
    apps, maker = example.apps, example.world.staff["sgg"][0]
    c = _client(maker)
    assert 'name="file"' in c.get(reverse("fund:uploads")).content.decode()
    sent = c.post(reverse("fund:uploads"), {"kind": "status", "file": SimpleUploadedFile("status.csv", _csv(_good_rows(apps)))})
    assert sent.status_code == 302, sent.content.decode()[:2000]
    record = StatusUpload.objects.get()
    assert (record.status, record.rows_total, record.rows_created) == ("stored", 3, 3)
    assert record.institution.code == "SZCGG"
    f05 = Application.objects.get(pk=apps["F-05"].pk)
    assert f05.maturity_date == D(2020, 12, 16)
    assert sorted(Repayment.objects.filter(application=f05).values_list("kind", "day", "amount_fen")) == [
        ("interest", D(2020, 4, 20), 1_082_813), ("principal", D(2020, 4, 15), 100_000_000)]
    actions = set(AuditEvent.objects.filter(actor=maker).values_list("action", flat=True))
    assert {"fund.repayment", "fund.extend", "import"} <= actions
    # The same file again changes nothing and says so.
    c.post(reverse("fund:uploads"), {"kind": "status", "file": SimpleUploadedFile("again.csv", _csv(_good_rows(apps)))})
    assert StatusUpload.objects.latest("pk").status == "unchanged"
    assert Repayment.objects.filter(application=f05).count() == 2
    detail = c.get(reverse("fund:upload_detail", args=[record.pk]))
    assert detail.status_code == 200
    # The other channel does not see the file.
    assert _client(example.world.staff["hti"][0]).get(reverse("fund:upload_detail", args=[record.pk])).status_code == 404


def test_a_bad_file_is_refused_whole_with_every_error(example):
    apps, maker = example.apps, example.world.staff["sgg"][0]
    before = (Repayment.objects.count(), Tranche.objects.count(), AuditEvent.objects.count())
    f05 = apps["F-05"].number
    rows = [[f05, "还本", "2020-04-15", "1000000.00", "", ""],          # good, but the file is refused
            [apps["F-01"].number, "还本", "2020-04-15", "100.00", "", ""],  # the other channel's
            ["SGG-999999", "还本", "2020-04-15", "100.00", "", ""],          # no one's
            [f05, "放款", "2020-04-01", "100000.00", "", ""],              # tranche_exceeds_approved
            [f05, "展期", "2020-06-30", "", "2020-12-16", ""],             # no reason given
            [f05, "还本", "2020-04-16", "abc", "", ""],                    # text in a number column
            [f05, "结清", "2020-05-01", "", "", ""]]                       # not everything repaid
    c = _client(maker)
    c.post(reverse("fund:uploads"), {"kind": "status", "file": SimpleUploadedFile("bad.csv", _csv(rows))})
    record = StatusUpload.objects.get()
    assert record.status == "refused"
    assert (Repayment.objects.count(), Tranche.objects.count()) == before[:2]
    assert Application.objects.get(pk=apps["F-05"].pk).maturity_date == D(2020, 9, 16)
    errors = c.get(reverse("fund:upload_detail", args=[record.pk])).context["errors"]
    by_row = {(int(e["row"]), e["column"].rsplit(" ", 1)[-1]) for e in errors}
    assert {(3, "application_no"), (4, "application_no"), (5, "amount"), (6, "note"), (7, "amount"),
            (8, "event")} <= by_row
    assert not any(int(e["row"]) == 2 for e in errors)
    other, nobody = (next(e for e in errors if int(e["row"]) == n) for n in (3, 4))
    # The other channel's application reads like one that does not exist.
    assert other["zh"].replace(apps["F-01"].number, "X") == nobody["zh"].replace("SGG-999999", "X")
    assert "tranche" in next(e for e in errors if int(e["row"]) == 5)["en"].lower() or \
        "超过" in next(e for e in errors if int(e["row"]) == 5)["zh"]
    report = c.get(reverse("fund:upload_error_report", args=[record.pk, "csv"]))
    assert report.status_code == 200


def test_the_api_takes_an_xlsx_status_file_and_refuses_outsiders(example, tmp_path):
    apps, world = example.apps, example.world
    path = tmp_path / "status.xlsx"
    write_rows(path, HEADER_EN, [[apps["F-05"].number, "principal", "2020-04-15", "1000000.00", "", ""]])
    url = "/api/v1/fund-status-files/"
    with open(path, "rb") as f:
        refused = _client(world.staff["hti"][0]).post(url, {"file": f})
    assert refused.status_code == 422
    assert refused.json()["upload"]["errors"][0]["column"].endswith("application_no")
    with open(path, "rb") as f:
        assert _client(world.bureau).post(url, {"file": f}).status_code == 403
    with open(path, "rb") as f:
        made = _client(world.staff["sgg"][0]).post(url, {"file": f})
    assert made.status_code == 201 and made.json()["status"] == "stored"
    assert Repayment.objects.filter(application=apps["F-05"], kind="principal").count() == 1
    seen = _client(world.staff["hti"][0]).get(url).json()["results"]
    assert [x["institution_code"] for x in seen] == ["SZHTI"]  # its refused file, not the other channel's
    assert _client(world.staff["hti"][0]).get(f"{url}{made.json()['id']}/").status_code == 404
    assert _client(world.enterprise_user).get(reverse("fund:uploads")).status_code == 403


def test_headless_import_needs_a_user_and_uses_their_scope(example, tmp_path):
    apps = example.apps
    path = tmp_path / "status.csv"
    path.write_bytes(_csv(_good_rows(apps)))
    with pytest.raises(CommandError):
        call_command("import_data", "fund-status", str(path))
    with pytest.raises(CommandError):  # hti's staff may not touch sgg's F-05
        call_command("import_data", "fund-status", str(path), "--as", "hti_maker")
    assert not Repayment.objects.filter(application=apps["F-05"]).exists()
    call_command("import_data", "fund-status", str(path), "--as", "sgg_maker")
    assert Repayment.objects.filter(application=apps["F-05"]).count() == 2


def test_a_larger_file_is_checked_in_the_background(example):
    from huiqi.core import jobs
    from huiqi.fund import imports

    maker = example.world.staff["sgg"][0]
    record = imports.start_upload(maker, SimpleUploadedFile("s.csv", _csv(_good_rows(example.apps))), inline_limit=0)
    assert record.status == "pending" and record.job is not None
    assert not Repayment.objects.filter(application=example.apps["F-05"]).exists()
    assert jobs.run_pending() == 1
    record.refresh_from_db()
    assert record.status == "stored" and Repayment.objects.filter(application=example.apps["F-05"]).count() == 2
