"""The pre-check reads the registry's facts as the bureau's files put them there: the dishonest-debtor list
as of the application's received date (a listing later removed does not fail a later application), and
the enterprise's ownership."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from huiqi.registry import services as registry

from .conftest import D, apply


def _file(header, rows):
    return SimpleUploadedFile("facts.csv", ("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n").encode())


def test_precheck_reads_the_imported_list_as_of_the_received_date_and_ownership(fund_world):
    ent = fund_world.ent
    listed = registry.start_registry_import(fund_world.bureau, _file(
        ["统一社会信用代码", "列入日期", "移出日期"], [[ent["E6"], "2020-03-01", "2020-04-01"]]), "dishonest")
    assert listed.status == "stored"
    during = apply(fund_world, "E6", "hti", D(2020, 3, 10), 300)
    assert (during.state, during.reasons) == ("precheck_failed", ["credit_blacklisted"])
    after = apply(fund_world, "E6", "hti", D(2020, 4, 20), 300)
    assert after.state == "prechecked" and "credit_blacklisted" not in after.reasons
    owned = registry.start_registry_import(fund_world.bureau, _file(
        ["uscc", "ownership"], [[ent["E2"], "state_controlled"]]), "ownership")
    assert owned.status == "stored"
    state_owned = apply(fund_world, "E2", "sgg", D(2020, 3, 10), 300)
    assert state_owned.state == "precheck_failed" and state_owned.reasons[0] == "not_private"


# --- the pre-check re-runs by itself when the registry supplies the missing figure ------------------------

def _funnel_parts(uscc):
    from huiqi.fund.models import FunnelEntry

    return sorted(FunnelEntry.objects.filter(uscc=uscc).values_list("dimension", "group_key", "day", "applied"))


def _waiting(world, key, ownership="unknown", **figures):
    """An application of ``key`` registered while the registry lacks its ownership (or its size)."""
    from huiqi.registry.models import Enterprise

    Enterprise.objects.filter(uscc=world.ent[key]).update(ownership=ownership, **figures)
    return apply(world, key, "hti" if key != "E2" else "sgg", D(2020, 3, 2), 300)


def test_an_ownership_file_reruns_the_prechecks_waiting_on_it_as_the_system(fund_world):
    from huiqi.core.i18n import shown
    from huiqi.core.models import AuditEvent
    from huiqi.fund.models import Application

    ent = fund_world.ent
    e6 = _waiting(fund_world, "E6")
    e2 = _waiting(fund_world, "E2")
    e5 = _waiting(fund_world, "E5")  # waits too, but the file says nothing of it
    e1 = apply(fund_world, "E1", "hti", D(2020, 3, 2), 300)  # passed: nothing to re-run
    assert [a.state for a in (e6, e2, e5, e1)] == ["received", "received", "received", "prechecked"]
    assert e6.reasons == ["ownership_unknown"]
    funnel_before = _funnel_parts(ent["E6"])
    audits = AuditEvent.objects.filter(action="fund.precheck")
    assert not audits.exists()

    record = registry.start_registry_import(fund_world.bureau, _file(
        ["统一社会信用代码", "所有制性质"],
        [[ent["E6"], "民营"], [ent["E2"], "国有控股"], [ent["E1"], "国有控股"]]), "ownership")
    assert (record.status, record.rows_updated) == ("stored", 3)

    e6, e2, e5, e1 = (Application.objects.get(pk=a.pk) for a in (e6, e2, e5, e1))
    assert (e6.state, e6.reasons) == ("prechecked", [])
    assert (e2.state, e2.reasons) == ("precheck_failed", ["not_private"])
    assert e2.stages.get(stage="precheck").done is not None
    assert (e5.state, e5.reasons) == ("received", ["ownership_unknown"])
    # A passed application is not pre-checked again even though its enterprise turned state-controlled.
    assert (e1.state, e1.reasons) == ("prechecked", [])
    reruns = {a.object_id: a for a in audits}
    assert set(reruns) == {str(e6.pk), str(e2.pk)}
    run = reruns[str(e6.pk)]
    assert run.actor is None and run.before["state"] == "received" and run.after["state"] == "prechecked"
    assert "fund_bureau" in shown(run.note)
    moved = e6.events.get(from_state="received", to_state="prechecked")
    assert moved.by is None
    assert _funnel_parts(ent["E6"]) == funnel_before  # the roll-up counts the receipt, not the pre-check


def test_a_file_that_repeats_a_waiting_enterprise_s_ownership_reruns_nothing(fund_world):
    from huiqi.core.models import AuditEvent
    from huiqi.registry.models import Enterprise

    app = _waiting(fund_world, "E6", ownership="private", size_class="unknown")
    assert app.reasons == ["size_unknown"]
    # E6 waits on its size; the file repeats its ownership (no change) and changes only E1's.
    record = registry.start_registry_import(fund_world.bureau, _file(
        ["uscc", "ownership"], [[fund_world.ent["E6"], "private"], [fund_world.ent["E1"], "unknown"]]), "ownership")
    assert (record.status, record.rows_updated) == ("stored", 1)
    assert Enterprise.objects.get(uscc=fund_world.ent["E1"]).ownership == "unknown"
    assert not AuditEvent.objects.filter(action="fund.precheck").exists()
    # Nor does the service given the ownership E6 already has.
    registry.set_ownership(fund_world.bureau, Enterprise.objects.get(uscc=fund_world.ent["E6"]), "private")
    assert not AuditEvent.objects.filter(action="fund.precheck").exists()
    app.refresh_from_db()
    assert (app.state, app.reasons) == ("received", ["size_unknown"])


def test_the_registry_extract_filling_a_size_class_reruns_the_precheck(fund_world):
    from huiqi.core.models import AuditEvent
    from huiqi.fund.models import Application
    from huiqi.registry.models import Enterprise

    ent = fund_world.ent
    sized = _waiting(fund_world, "E6", ownership="private", employees=None, revenue_fen=None,
                     size_class="unknown", size_missing="employees,revenue")
    unsized = _waiting(fund_world, "E5", ownership="private", employees=None, revenue_fen=None,
                       size_class="unknown", size_missing="employees,revenue")
    assert (sized.state, sized.reasons) == ("received", ["size_unknown"])
    e6, e5 = Enterprise.objects.get(uscc=ent["E6"]), Enterprise.objects.get(uscc=ent["E5"])
    header = ["统一社会信用代码", "企业名称", "主体类型", "所属区", "行业代码", "从业人员（人）", "营业收入（万元）", "数据年度"]
    record = registry.start_registry_import(fund_world.bureau, _file(header, [
        [e6.uscc, e6.name, "企业", e6.district_id, "C39", "50", "3000", "2019"],
        # E5's new name changes it, but its size stays unknown: nothing to re-run.
        [e5.uscc, e5.name + "（新）", "企业", e5.district_id, "C39", "", "", "2019"],
    ]))
    assert (record.status, record.rows_updated) == ("stored", 2)
    assert Enterprise.objects.get(pk=e6.pk).size_class == "small"
    sized, unsized = Application.objects.get(pk=sized.pk), Application.objects.get(pk=unsized.pk)
    assert (sized.state, sized.reasons) == ("prechecked", [])
    assert (unsized.state, unsized.reasons) == ("received", ["size_unknown"])
    assert list(AuditEvent.objects.filter(action="fund.precheck").values_list("object_id", flat=True)) == [
        str(sized.pk)]


def test_new_figures_on_the_registry_page_rerun_the_precheck(fund_world):
    from huiqi.fund.models import Application
    from huiqi.registry.models import Enterprise

    app = _waiting(fund_world, "E6", ownership="private", size_class="unknown")
    assert app.reasons == ["size_unknown"]
    registry.update_figures(fund_world.bureau, Enterprise.objects.get(uscc=fund_world.ent["E6"]), employees=2000,
                            revenue_wan="50000", figures_year=2019)
    app = Application.objects.get(pk=app.pk)
    assert (app.state, app.reasons) == ("precheck_failed", ["size_large"])


def test_the_back_office_s_enterprise_form_reruns_the_precheck(fund_world):
    from django.test import Client
    from django.urls import reverse

    from conftest import PASSWORD
    from huiqi.accounts.services import create_user
    from huiqi.core.models import AuditEvent
    from huiqi.fund.models import Application
    from huiqi.registry.models import Enterprise

    app = _waiting(fund_world, "E6")
    assert app.reasons == ["ownership_unknown"]
    admin = create_user(None, username="fund_admin", password=PASSWORD, role="admin", check_password=False)
    c = Client()
    assert c.login(username=admin.username, password=PASSWORD)
    e6 = Enterprise.objects.get(uscc=fund_world.ent["E6"])
    url = reverse("admin:registry_enterprise_change", args=[e6.pk])
    form = c.get(url).context["adminform"].form
    data = {}
    for name in form.fields:  # the form as shown, sent back (a date and time is two inputs)
        value = form[name].value()
        if isinstance(value, dt.datetime):
            data[f"{name}_0"], data[f"{name}_1"] = value.date().isoformat(), value.time().isoformat()
        elif value is not None and value is not False:
            data[name] = value
    sent = c.post(url, {**data, "ownership": "private"})
    assert sent.status_code == 302, (sent.context["adminform"].form.errors, data)
    assert Enterprise.objects.get(pk=e6.pk).ownership == "private"
    app = Application.objects.get(pk=app.pk)
    assert (app.state, app.reasons) == ("prechecked", [])
    run = AuditEvent.objects.get(action="fund.precheck")
    assert run.actor is None and "fund_admin" in run.note
