"""The registry's facts from files: enterprises' ownership (所有制性质) and the dishonest-debtor list
(失信被执行人, dated listings), each stored whole or refused whole with every bad row named, audited, by
the bureau's import page or ``huiqi import registry-ownership|registry-dishonest FILE``."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from huiqi.core.models import AuditEvent
from huiqi.registry import selectors, services
from huiqi.registry.models import DishonestDebtorListing, Enterprise, RegistryImport

pytestmark = pytest.mark.django_db

UNKNOWN = "91440300708461136T"  # a valid USCC that is not in the registry


def _csv(header, rows) -> bytes:
    return ("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n").encode("utf-8")


def test_ownership_file_sets_each_enterprise_audited_and_refuses_whole(city, users, client_for):
    ns1, ft1 = city["ns1"], city["ft1"]
    bad = services.start_registry_import(users["bureau"], SimpleUploadedFile("own.csv", _csv(
        ["统一社会信用代码", "所有制性质"],
        [[ns1.uscc, "民营"], [UNKNOWN, "国有控股"], [ft1.uscc, "集体"], ["123", "民营"]])), "ownership")
    assert bad.status == "refused" and bad.error_count == 3
    assert Enterprise.objects.get(pk=ns1.pk).ownership == "unknown"  # nothing of it kept
    page = client_for("bureau").post(reverse("registry:import"), {"kind": "ownership", "file": SimpleUploadedFile(
        "own.csv", _csv(["uscc", "ownership"], [[ns1.uscc, "private"], [ft1.uscc, "国有控股"]]))})
    assert page.status_code == 302
    record = RegistryImport.objects.latest("pk")
    assert (record.kind, record.status, record.rows_updated) == ("ownership", "stored", 2)
    assert Enterprise.objects.get(pk=ns1.pk).ownership == "private"
    assert Enterprise.objects.get(pk=ft1.pk).ownership == "state_controlled"
    change = AuditEvent.objects.get(model="registry.Enterprise", object_id=str(ft1.pk), action="update")
    assert (change.before["ownership"], change.after["ownership"], change.actor) == (
        "unknown", "state_controlled", users["bureau"])
    # The same facts again change nothing.
    again = services.start_registry_import(users["bureau"], SimpleUploadedFile("own2.csv", _csv(
        ["uscc", "ownership", "备注"], [[ns1.uscc, "private"], [ft1.uscc, "state_controlled"], ])), "ownership")
    assert again.status == "unchanged"


def test_dishonest_list_is_dated_and_read_as_of_a_day(city, users, tmp_path):
    ns1 = city["ns1"]
    header = ["统一社会信用代码", "列入日期", "移出日期", "来源"]
    bad = services.start_registry_import(users["bureau"], SimpleUploadedFile("list.csv", _csv(header, [
        [ns1.uscc, "2020-03-01", "2020-02-01", "法院"], [ns1.uscc, "2020-13-01", "", ""]])), "dishonest")
    assert bad.status == "refused" and bad.error_count == 2 and not DishonestDebtorListing.objects.exists()
    path = tmp_path / "list.csv"
    path.write_bytes(_csv(header, [[ns1.uscc, "2020-03-01", "", "最高人民法院"], [UNKNOWN, "2019-11-01", "", ""]]))
    call_command("import_data", "registry-dishonest", str(path))
    assert DishonestDebtorListing.objects.count() == 2
    assert selectors.dishonest_on(ns1.uscc, dt.date(2020, 3, 15))
    assert not selectors.dishonest_on(ns1.uscc, dt.date(2020, 2, 28))
    # The court removes it: the same (USCC, listed on) replaces its removal date, audited.
    path.write_bytes(_csv(header, [[ns1.uscc, "2020-03-01", "2020-04-01", "最高人民法院"]]))
    call_command("import_data", "registry-dishonest", str(path))
    listing = DishonestDebtorListing.objects.get(uscc=ns1.uscc)
    assert listing.removed_on == dt.date(2020, 4, 1)
    assert selectors.dishonest_on(ns1.uscc, dt.date(2020, 3, 31)) and not selectors.dishonest_on(ns1.uscc, dt.date(2020, 4, 1))
    change = AuditEvent.objects.get(model="registry.DishonestDebtorListing", action="update")
    assert change.after == {"removed_on": "2020-04-01"}


def test_only_the_bureau_imports_facts_and_templates_exist(users, client_for):
    from huiqi.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.start_registry_import(users["district"], SimpleUploadedFile("o.csv", b"uscc,ownership\n"), "ownership")
    c = client_for("bureau")
    for kind in ("ownership", "dishonest"):
        got = c.get(reverse("registry:import_template", args=["en", "csv"]) + f"?kind={kind}")
        assert got.status_code == 200
    assert c.get(reverse("registry:import_template", args=["en", "csv"]) + "?kind=nope").status_code == 404


def test_the_api_takes_a_kind(city, users, client_for):
    body = _csv(["uscc", "ownership"], [[city["ns1"].uscc, "private"]])
    sent = client_for("bureau").post("/api/v1/registry-imports/", {"kind": "ownership",
                                                                  "file": SimpleUploadedFile("o.csv", body)})
    assert sent.status_code == 201, sent.content
    assert sent.json()["kind"] == "ownership"
    assert Enterprise.objects.get(pk=city["ns1"].pk).ownership == "private"
