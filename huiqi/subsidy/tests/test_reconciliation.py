"""Issue 16.11: a bank's reconciliation file passes two people, and each payment's change is audited.

One person uploads the file: it is checked whole (nothing of a bad file is kept) and waits, changing
nothing. Another person confirms it: only then does each payment it names become paid or failed (a
failed one is owed again in the next batch), each with an audit record of its own, before and after.
The one who uploaded it never confirms it; either may send it back instead."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.test import Client

from huiqi.core.errors import Conflict, PermissionDenied
from huiqi.core.i18n import shown
from huiqi.core.models import AuditEvent
from huiqi.subsidy import services
from huiqi.subsidy.models import PaymentStatus, SubsidyBatch

pytestmark = pytest.mark.django_db

DEC = dt.date(2020, 12, 31)


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def released(staff, tmp_path) -> SubsidyBatch:
    batch = services.run_batch(staff["bureau"], DEC)
    services.review(staff["bureau2"], batch)
    services.approve(staff["bureau3"], batch)
    services.release(staff["admin"], batch, tmp_path / "bank")
    batch.refresh_from_db()
    return batch


def bank_file(example, name="对账.csv") -> io.BytesIO:
    f = io.BytesIO(f"受益人证件号码,状态,金额,备注\n{example.A},已支付,20266.66,\n{example.X},失败,,账户已销户\n"
                   .encode())
    f.name = name
    return f


def recorded(status: str) -> str:
    from huiqi.subsidy.models import ReconciliationStatus  # imported late: before the fix it did not exist

    return ReconciliationStatus(status)


def reconciliations():
    from huiqi.subsidy.models import SubsidyReconciliation

    return SubsidyReconciliation.objects


def statuses(batch) -> dict[str, str]:
    return dict(batch.payments.values_list("beneficiary_id", "status"))


def test_nothing_changes_until_a_second_person_confirms(example, staff, tmp_path):
    batch = released(staff, tmp_path)
    rec = services.prepare_reconciliation(staff["bureau"], batch, bank_file(example))
    assert (rec.status, rec.prepared_by, rec.paid, rec.failed, rec.unchanged) == (
        recorded("prepared"), staff["bureau"], 1, 1, 0)
    assert rec.file_name == "对账.csv" and len(rec.file_sha256) == 64
    assert set(statuses(batch).values()) == {PaymentStatus.PENDING}

    with pytest.raises(PermissionDenied) as err:
        services.confirm_reconciliation(staff["bureau"], rec)
    assert err.value.code == "subsidy.self_confirmation"
    assert "由您上传" in err.value.zh and "you uploaded" in err.value.en
    assert set(statuses(batch).values()) == {PaymentStatus.PENDING}
    with pytest.raises(PermissionDenied):
        services.confirm_reconciliation(staff["auditor"], rec)

    rec = services.confirm_reconciliation(staff["bureau2"], rec)
    assert (rec.status, rec.decided_by) == (recorded("confirmed"), staff["bureau2"])
    assert statuses(batch) == {example.A: PaymentStatus.PAID, example.X: PaymentStatus.FAILED}
    x = batch.payments.get(beneficiary_id=example.X)
    assert (x.reconciled_by, x.reconcile_note) == (staff["bureau2"], "账户已销户")
    with pytest.raises(Conflict):  # confirmed once
        services.confirm_reconciliation(staff["bureau3"], rec)

    # the failed payment is owed again in the next batch, the paid one is not
    result = services.simulate(None, dt.date(2021, 1, 31))
    assert {b.beneficiary_id: b.payable for b in result.beneficiaries} == {example.A: 0, example.X: 100000000}


def test_each_payments_change_is_audited_before_and_after(example, staff, tmp_path):
    batch = released(staff, tmp_path)
    rec = services.prepare_reconciliation(staff["bureau"], batch, bank_file(example))
    assert not AuditEvent.objects.filter(model="subsidy.SubsidyPayment").exists()
    services.confirm_reconciliation(staff["bureau2"], rec)

    payments = {p.beneficiary_id: p for p in batch.payments.all()}
    events = {e.object_id: e for e in AuditEvent.objects.filter(model="subsidy.SubsidyPayment")}
    assert set(events) == {str(payments[example.A].pk), str(payments[example.X].pk)}
    for beneficiary, status, note in ((example.A, "paid", ""), (example.X, "failed", "账户已销户")):
        e = events[str(payments[beneficiary].pk)]
        assert (e.action, e.actor, e.actor_label) == ("subsidy.payment_reconciled", staff["bureau2"], "bureau2")
        assert e.before["status"] == "pending" and e.before["reconciled_by_id"] is None
        assert (e.after["status"], e.after["reconcile_note"], e.after["reconciled_by_id"]) == (
            status, note, staff["bureau2"].pk)
        assert e.before["payable_fen"] == e.after["payable_fen"] == payments[beneficiary].payable_fen
        note = shown(e.note)  # kept as its message, read in the language of the page
        assert f"#{rec.pk}" in note and "bureau" in note and "对账.csv" in note
    # The batch's own record of it: who uploaded, who confirmed, the counts.
    history = list(AuditEvent.objects.filter(model="subsidy.SubsidyBatch", object_id=str(batch.pk),
                                             action__startswith="subsidy.reconcil").order_by("id")
               .values_list("action", "actor"))
    assert history == [("subsidy.reconciliation_prepared", staff["bureau"].pk),
                       ("subsidy.reconcile", staff["bureau2"].pk)]


def test_one_file_waits_at_a_time_and_is_sent_back_or_withdrawn(example, staff, tmp_path):
    batch = released(staff, tmp_path)
    rec = services.prepare_reconciliation(staff["bureau"], batch, bank_file(example))
    with pytest.raises(Conflict) as err:
        services.prepare_reconciliation(staff["bureau2"], batch, bank_file(example))
    assert err.value.code == "subsidy.reconciliation_waiting" and f"#{rec.pk}" in err.value.zh
    rec = services.reject_reconciliation(staff["bureau2"], rec, note="金额有疑问")
    assert (rec.status, rec.decided_by, rec.note) == (recorded("rejected"), staff["bureau2"], "金额有疑问")
    assert set(statuses(batch).values()) == {PaymentStatus.PENDING}
    with pytest.raises(Conflict):
        services.confirm_reconciliation(staff["bureau2"], rec)

    again = services.prepare_reconciliation(staff["bureau"], batch, bank_file(example))
    services.reject_reconciliation(staff["bureau"], again)  # the uploader withdraws it
    assert reconciliations().filter(status=recorded("rejected")).count() == 2
    assert not AuditEvent.objects.filter(model="subsidy.SubsidyPayment").exists()


def test_the_pages_take_two_people(example, staff, tmp_path):
    batch = released(staff, tmp_path)
    uploader, checker = client(staff["bureau"]), client(staff["bureau2"])
    resp = uploader.post(f"/subsidy/b/{batch.pk}/reconcile/", {"file": bank_file(example)})
    assert resp.status_code == 302 and resp["Location"] == f"/subsidy/b/{batch.pk}/reconcile/"
    assert set(statuses(batch).values()) == {PaymentStatus.PENDING}
    rec = reconciliations().get()

    page = uploader.get(resp["Location"]).content.decode()
    assert "待另一人确认" in page and 'data-decision="confirm"' not in page and 'data-decision="reject"' in page
    resp = uploader.post(f"/subsidy/b/{batch.pk}/reconcile/{rec.pk}/confirm/")
    assert resp.status_code == 403 and "由您上传" in resp.content.decode()
    assert set(statuses(batch).values()) == {PaymentStatus.PENDING}

    page = checker.get(f"/subsidy/b/{batch.pk}/reconcile/").content.decode()
    assert 'data-decision="confirm"' in page and "对账.csv" in page
    resp = checker.post(f"/subsidy/b/{batch.pk}/reconcile/{rec.pk}/confirm/")
    assert resp.status_code == 302 and resp["Location"] == f"/subsidy/b/{batch.pk}/"
    assert statuses(batch) == {example.A: PaymentStatus.PAID, example.X: PaymentStatus.FAILED}
    assert client(staff["auditor"]).post(f"/subsidy/b/{batch.pk}/reconcile/{rec.pk}/reject/").status_code == 403


def test_the_api_takes_two_people(example, staff, tmp_path):
    batch = released(staff, tmp_path)
    resp = client(staff["bureau"]).post(f"/api/v1/subsidy-batches/{batch.pk}/reconcile/",
                                        {"file": bank_file(example, "r.csv")})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["status"], body["paid"], body["failed"], body["unchanged"], body["prepared_by"]) == (
        "prepared", 1, 1, 0, "bureau")
    assert set(statuses(batch).values()) == {PaymentStatus.PENDING}

    url = f"/api/v1/subsidy-reconciliations/{body['id']}/"
    assert client(staff["auditor"]).get(url).json()["file_name"] == "r.csv"
    assert client(staff["bank"]).get(url).status_code == 404
    resp = client(staff["bureau"]).post(url + "confirm/", json.dumps({}), content_type="application/json")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "subsidy.self_confirmation"
    resp = client(staff["bureau2"]).post(url + "confirm/", json.dumps({"note": "核对无误"}),
                                         content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == "confirmed"
    assert resp.json()["decided_by"] == "bureau2"
    assert statuses(batch) == {example.A: PaymentStatus.PAID, example.X: PaymentStatus.FAILED}


def test_a_refused_file_names_a_bad_row_s_unknown_beneficiary_beside_its_bad_cells(example, staff, tmp_path):
    batch = released(staff, tmp_path)
    f = io.BytesIO(f"受益人证件号码,状态,金额\n{example.A},已支付,20266.66\n91440300AY4CL12T24,maybe,x\n".encode())
    f.name = "对账.csv"
    with pytest.raises(services.ReconciliationRefused) as err:
        services.prepare_reconciliation(staff["bureau"], batch, f)
    assert sorted((e.row, e.column) for e in err.value.errors) == [(3, "amount"), (3, "beneficiary_id"), (3, "status")]


def test_the_reconciliation_template_offers_the_statuses_and_reads_back(staff):
    import zipfile

    from huiqi.core.tabular import read_table

    response = client(staff["bureau"]).get("/subsidy/reconcile/template.zh.xlsx")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    book = zipfile.ZipFile(io.BytesIO(data))
    assert '<dataValidation type="list"' in book.read("xl/worksheets/sheet1.xml").decode()
    assert "<t>支付失败</t>" in book.read("xl/sharedStrings.xml").decode()
    assert read_table(data).header == ["受益人证件号码", "状态", "金额", "备注"]
    assert client(staff["auditor"]).get("/subsidy/reconcile/template.zh.csv").status_code == 403
