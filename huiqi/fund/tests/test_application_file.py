"""A channel's registration file (申请登记: the applications it received) from the outside: the upload page, the
API and ``huiqi import fund-applications FILE --as USER``. Each row goes through ``services.register`` with the
page's checks; a file with any bad row is refused whole with every error named and nothing kept; the same file
twice registers nothing twice; a channel sees only its own files, and one live application per enterprise holds
across the two channels' files."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from huiqi.core.models import AuditEvent
from huiqi.core.tabular import read_table, write_rows
from huiqi.fund.models import Application, StatusUpload

from .conftest import WAN

HEADER_ZH = ["统一社会信用代码", "申请金额（万元）", "申请期限（月）", "受理日期", "疫情影响说明", "资金用途"]
HEADER_EN = ["uscc", "amount_wan", "term_months", "received_date", "impact", "purpose"]
IMPACT = "疫情期间订单取消，现金流紧张"


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def _csv(rows, header=HEADER_ZH) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _send(user, rows, name="applications.csv"):
    return _client(user).post(reverse("fund:uploads"),
                              {"kind": "applications", "file": SimpleUploadedFile(name, _csv(rows))})


def _errors(c, record):
    return c.get(reverse("fund:upload_detail", args=[record.pk])).context["errors"]


def test_a_channel_registers_the_applications_of_its_file_through_the_page(fund_world):
    w, maker = fund_world, fund_world.staff["sgg"][0]
    rows = [[w.ent["E1"], "1,500", "6", "2020-03-02", IMPACT, "支付工资"],
            [w.ent["E5"], "120.5", "12", "2020/3/3", IMPACT, ""],
            [w.ent["E3"], "500", "12", "2020-03-04", IMPACT, ""]]  # large: registered, fails the pre-check
    sent = _send(maker, rows)
    assert sent.status_code == 302, sent.content.decode()[:2000]
    record = StatusUpload.objects.get()
    assert (record.kind, record.status, record.rows_total, record.rows_created) == ("applications", "stored", 3, 3)
    assert record.institution.code == "SZCGG"
    apps = {a.uscc: a for a in Application.objects.all()}
    e1, e5, e3 = apps[w.ent["E1"]], apps[w.ent["E5"]], apps[w.ent["E3"]]
    assert {a.channel for a in apps.values()} == {"sgg"} and {a.source for a in apps.values()} == {"file"}
    assert (e1.requested_fen, e1.term_months, e1.purpose, e1.state, e1.priority) == (1500 * WAN, 6, "支付工资",
                                                                                     "prechecked", True)
    assert e5.requested_fen == 120_500_000 and e5.received_date.isoformat() == "2020-03-03"
    assert (e3.state, e3.reasons) == ("precheck_failed", ["size_large"])
    assert AuditEvent.objects.filter(actor=maker, action="fund.register").count() == 3
    assert AuditEvent.objects.filter(actor=maker, action="import").count() == 1
    # The same file again registers nothing and says so.
    _send(maker, rows, name="again.csv")
    assert StatusUpload.objects.latest("pk").status == "unchanged"
    assert Application.objects.count() == 3
    page = _client(maker).get(reverse("fund:uploads")).content.decode()
    assert "申请登记" in page and reverse("fund:template", args=["applications", "zh", "xlsx"]) in page


def test_a_bad_file_is_refused_whole_with_every_error(fund_world):
    w, maker = fund_world, fund_world.staff["hti"][0]
    before = AuditEvent.objects.filter(action="fund.register").count()
    rows = [[w.ent["E1"], "500", "12", "2020-03-02", IMPACT, ""],     # good, but the file is refused
            [w.ent["E1"], "200", "12", "2020-03-03", IMPACT, ""],     # the row above is live
            ["91440300ABCDEFGH12", "100", "12", "2020-03-02", IMPACT, ""],  # not a USCC
            [w.ent["E2"], "3001", "12", "2020-03-02", IMPACT, ""],    # above the cap
            [w.ent["E5"], "100", "13", "2020-03-02", IMPACT, ""],     # longer than the longest term
            [w.ent["E6"], "100", "12", "2020-02-30", IMPACT, ""],     # no such day
            [w.ent["E6"], "abc", "12", "2020-03-02", IMPACT, ""],     # text in a number column
            [w.ent["E6"], "0.0000001", "", "2020-03-02", IMPACT, ""]]  # below a fen, and no term
    _send(maker, rows)
    record = StatusUpload.objects.get()
    assert record.status == "refused" and record.kind == "applications"
    assert not Application.objects.exists()
    assert AuditEvent.objects.filter(action="fund.register").count() == before
    errors = _errors(_client(maker), record)
    by_row = {(int(e["row"]), e["column"].rsplit(" ", 1)[-1]) for e in errors}
    assert {(3, "uscc"), (4, "uscc"), (5, "amount_wan"), (6, "term_months"), (7, "received_date"),
            (8, "amount_wan"), (9, "amount_wan"), (9, "term_months")} <= by_row
    assert not any(int(e["row"]) == 2 for e in errors)
    live = next(e for e in errors if int(e["row"]) == 3)
    assert "live" in live["en"].lower() or "在办" in live["zh"]
    assert _client(maker).get(reverse("fund:upload_error_report", args=[record.pk, "csv"])).status_code == 200


def test_one_live_application_holds_across_the_two_channels_files(fund_world):
    w = fund_world
    _send(w.staff["hti"][0], [[w.ent["E1"], "500", "12", "2020-03-02", IMPACT, ""]])
    first = Application.objects.get()
    assert first.channel == "hti"
    _send(w.staff["sgg"][0], [[w.ent["E1"], "800", "6", "2020-03-05", IMPACT, ""],
                              [w.ent["E2"], "300", "6", "2020-03-05", IMPACT, ""]])
    refused = StatusUpload.objects.latest("pk")
    assert refused.status == "refused" and refused.institution.code == "SZCGG"
    assert list(Application.objects.values_list("pk", flat=True)) == [first.pk]  # E2's good row is not kept
    (error,) = _errors(_client(w.staff["sgg"][0]), refused)
    assert (int(error["row"]), error["column"].rsplit(" ", 1)[-1]) == (2, "uscc")
    assert first.number in error["zh"]  # the other channel's number, and nothing else of it


def test_the_api_takes_an_xlsx_file_and_scopes_the_lists(fund_world, tmp_path):
    w = fund_world
    path = tmp_path / "applications.xlsx"
    write_rows(path, HEADER_EN, [[w.ent["E6"], "300", "12", "2020-04-20", IMPACT, "原材料"]])
    url = "/api/v1/fund-application-files/"
    for outsider in (w.bureau, w.enterprise_user):
        with open(path, "rb") as f:
            assert _client(outsider).post(url, {"file": f}).status_code == 403
    with open(path, "rb") as f:
        made = _client(w.staff["hti"][0]).post(url, {"file": f})
    assert made.status_code == 201, made.content
    assert (made.json()["kind"], made.json()["status"], made.json()["rows_created"]) == ("applications", "stored", 1)
    assert Application.objects.get().number == "HTI-000001"
    assert made.json()["applications"] == ["HTI-000001"]
    with open(path, "rb") as f:  # the same enterprise again at the other channel: refused whole, 422
        refused = _client(w.staff["sgg"][0]).post(url, {"file": f})
    assert refused.status_code == 422
    assert refused.json()["upload"]["errors"][0]["column"].endswith("uscc")
    assert Application.objects.count() == 1
    # Each channel sees its own files; the bureau both; the status files' list is another kind.
    assert [x["institution_code"] for x in _client(w.staff["hti"][0]).get(url).json()["results"]] == ["SZHTI"]
    assert _client(w.staff["sgg"][0]).get(f"{url}{made.json()['id']}/").status_code == 404
    assert {x["institution_code"] for x in _client(w.bureau).get(url).json()["results"]} == {"SZHTI", "SZCGG"}
    assert _client(w.staff["hti"][0]).get("/api/v1/fund-status-files/").json()["results"] == []
    # The page: the other channel does not see the file, nor its error report.
    assert _client(w.staff["sgg"][0]).get(reverse("fund:upload_detail", args=[made.json()["id"]])).status_code == 404
    page = _client(w.staff["sgg"][0]).get(reverse("fund:uploads"))
    assert [r.pk for r in page.context["page"]] == [refused.json()["upload"]["id"]]


def test_the_template_has_both_languages_headers(fund_world, tmp_path):
    c = _client(fund_world.staff["hti"][0])
    for lang, header in (("zh", HEADER_ZH), ("en", HEADER_EN)):
        got = c.get(reverse("fund:template", args=["applications", lang, "csv"]))
        assert got.status_code == 200
        path = tmp_path / f"t-{lang}.csv"
        path.write_bytes(b"".join(got.streaming_content) if got.streaming else got.content)
        assert read_table(path).header[:6] == header
    assert c.get(reverse("fund:template", args=["nothing", "zh", "csv"])).status_code == 404


def test_headless_import_needs_a_channel_user(fund_world, tmp_path):
    w = fund_world
    path = tmp_path / "applications.csv"
    path.write_bytes(_csv([[w.ent["E2"], "800", "12", "2020-02-17", IMPACT, ""]]))
    with pytest.raises(CommandError):
        call_command("import_data", "fund-applications", str(path))
    with pytest.raises(CommandError):  # the bureau is no channel
        call_command("import_data", "fund-applications", str(path), "--as", "fund_bureau")
    assert not Application.objects.exists()
    call_command("import_data", "fund-applications", str(path), "--as", "sgg_maker")
    assert Application.objects.get().channel == "sgg"


def test_a_larger_file_is_registered_in_the_background(fund_world):
    from huiqi.core import jobs
    from huiqi.fund import imports

    w = fund_world
    upload = SimpleUploadedFile("a.csv", _csv([[w.ent["E2"], "800", "12", "2020-02-17", IMPACT, ""]]))
    record = imports.start_upload(w.staff["sgg"][0], upload, kind="applications", inline_limit=0)
    assert record.status == "pending" and record.job is not None and not Application.objects.exists()
    assert jobs.run_pending() == 1
    record.refresh_from_db()
    assert record.status == "stored" and Application.objects.get().source == "file"


def test_a_registration_file_s_page_and_api_list_the_applications_it_registered(fund_world):
    from django.conf import settings

    from huiqi.fund import services
    from huiqi.fund.services import ApplicationInput

    from .conftest import D

    w, maker = fund_world, fund_world.staff["sgg"][0]
    # One on the page first: from no file, it is on no file's list.
    by_page = services.register(maker, ApplicationInput(uscc=w.ent["E6"], channel="sgg", requested_fen=300 * WAN,
                                                        term_months=12, received_date=D(2020, 3, 1), impact=IMPACT))
    _send(maker, [[w.ent["E1"], "1,500", "6", "2020-03-02", IMPACT, ""],
                  [w.ent["E3"], "500", "12", "2020-03-04", IMPACT, ""]])  # E3 fails the pre-check, listed all the same
    first = StatusUpload.objects.get()
    _send(maker, [[w.ent["E5"], "120", "12", "2020-03-05", IMPACT, ""]], name="second.csv")
    second = StatusUpload.objects.latest("pk")
    apps = {a.uscc: a for a in Application.objects.all()}
    e1, e3, e5 = apps[w.ent["E1"]], apps[w.ent["E3"]], apps[w.ent["E5"]]
    assert (e1.upload, e3.upload, e5.upload, by_page.upload) == (first, first, second, None)

    c = _client(maker)
    got = c.get(reverse("fund:upload_detail", args=[first.pk]))
    assert [a.pk for a in got.context["page"]] == [e1.pk, e3.pk] and got.context["page"].paginator.count == 2
    html = got.content.decode()
    assert "本文件登记的申请" in html
    for app in (e1, e3):
        assert f'href="{reverse("fund:detail", args=[app.pk])}">{app.number}</a>' in html
    assert "深圳市甲医疗器械有限公司" in html and "15,000,000.00" in html and "预审未通过" in html
    assert e5.number not in html and by_page.number not in html
    assert [a.pk for a in c.get(reverse("fund:upload_detail", args=[second.pk])).context["page"]] == [e5.pk]
    # The city's readers see the list too; the other channel not even the file.
    assert [a.pk for a in _client(w.bureau).get(reverse("fund:upload_detail", args=[first.pk])).context["page"]] == [
        e1.pk, e3.pk]
    assert _client(w.staff["hti"][0]).get(reverse("fund:upload_detail", args=[first.pk])).status_code == 404
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = c.get(reverse("fund:upload_detail", args=[first.pk])).content.decode()
    assert "Applications registered by this file" in english and "本文件登记的申请" not in english

    url = f"/api/v1/fund-application-files/{first.pk}/"
    assert _client(maker).get(url).json()["applications"] == [e1.number, e3.number]
    assert _client(w.bureau).get(url).json()["applications"] == [e1.number, e3.number]
    assert _client(w.staff["hti"][0]).get(url).status_code == 404


def test_a_refused_registration_file_has_no_list_of_applications(fund_world):
    w, maker = fund_world, fund_world.staff["sgg"][0]
    _send(maker, [[w.ent["E1"], "0", "6", "2020-03-02", IMPACT, ""]])
    refused = StatusUpload.objects.get()
    assert refused.status == "refused" and not Application.objects.exists()
    got = _client(maker).get(reverse("fund:upload_detail", args=[refused.pk]))
    assert "page" not in got.context and "本文件登记的申请" not in got.content.decode()
    assert _client(maker).get(f"/api/v1/fund-application-files/{refused.pk}/").json()["applications"] == []
