"""An enterprise's page lists the programs it takes part in (参与的惠企项目), each app's summary read through
its own scoped selectors: a reader sees of each program what it may see, and nothing of another scope."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from huiqi.core.declarations import EnterpriseProgram
from huiqi.site import discovery

pytestmark = pytest.mark.django_db


def programs(client, enterprise) -> dict[str, str]:
    """The programs shown on the enterprise's page: name → the section's text."""
    page = client.get(reverse("registry:enterprise_detail", args=[enterprise.uscc]))
    assert page.status_code == 200
    text = page.content.decode()
    return dict(re.findall(r'<section class="program" data-program="([^"]+)">(.*?)</section>', text, re.S))


@pytest.fixture
def taking_part(users, city):
    """ns1 (南山) filed to resume, asked a question, and was paid in a released subsidy batch."""
    from huiqi.requests import services as requests
    from huiqi.requests.models import Category
    from huiqi.resumption.models import FilingStatus, ReturnToWorkFiling
    from huiqi.subsidy import partitions
    from huiqi.subsidy.models import BatchStatus, PaymentStatus, SubsidyBatch, SubsidyPayment

    ns1 = city["ns1"]
    filing = ReturnToWorkFiling.objects.create(
        enterprise=ns1, district_id=ns1.district_id, status=FilingStatus.APPROVED,
        planned_date=dt.date(2020, 2, 20), staff_total=10, staff_returning=8)
    req = requests.submit_request(users["enterprise"], enterprise=ns1, category=Category.objects.get(code="policy"),
                                  title="政策咨询", description="请问如何申请贴息？")
    released = SubsidyBatch.objects.create(cutoff=dt.date(2020, 3, 31), params={},
                                           status=BatchStatus.RELEASED, created_by=users["bureau"])
    amounts = dict(loans_counted=1, interest_counted_fen=2_000_000, subsidy_before_cap_fen=1_000_000,
                   entitlement_fen=1_000_000, paid_before_fen=0, due_fen=1_000_000, payable_fen=1_000_000,
                   overpayment_fen=0, status=PaymentStatus.PENDING.value)

    def pay(batch):  # as a run writes a batch's payments (on PostgreSQL, the batch's own partition)
        partitions.write_rows(SubsidyPayment, batch.pk, {
            "batch": [batch.pk], "beneficiary_id": [ns1.uscc], "name": [ns1.name], "kind": ["enterprise"],
            "reconcile_note": [""], **{field: [value] for field, value in amounts.items()}})

    pay(released)
    # A batch not released yet is the bureau's working number: no one else counts it.
    waiting = SubsidyBatch.objects.create(cutoff=dt.date(2020, 4, 2), params={}, status=BatchStatus.RUN,
                                          created_by=users["bureau"])
    pay(waiting)
    return {"filing": filing, "request": req, "batch": released}


def test_each_reader_sees_the_programs_it_may_see(taking_part, client_for, city):
    ns1 = city["ns1"]
    own = programs(client_for("enterprise"), ns1)
    assert list(own) == ["subsidy", "resumption", "requests"]
    assert "10,000.00" in own["subsidy"] and 'href="/subsidy/"' in own["subsidy"]
    assert "同意复工" in own["resumption"] and f'href="/resumption/filings/{taking_part["filing"].pk}/"' in \
        own["resumption"]
    assert "诉求件数" in own["requests"]
    link = html.unescape(re.search(r'href="([^"]+)"', own["requests"]).group(1))
    assert taking_part["request"].number in client_for("enterprise").get(link).content.decode()

    # The district reads its enterprises' return to work and requests, not their subsidy payments.
    assert list(programs(client_for("district"), ns1)) == ["resumption", "requests"]
    # The bureau reads all three; its link goes to the enterprise's line in the batch.
    bureau = programs(client_for("bureau"), ns1)
    assert list(bureau) == ["subsidy", "resumption", "requests"]
    assert f"/subsidy/b/{taking_part['batch'].pk}/beneficiaries/?q={ns1.uscc}" in bureau["subsidy"]
    assert "10,000.00" in bureau["subsidy"], "the batch not yet released counts for nothing"
    # A department reads the requests routed to it: policy questions go to SME-SZ.
    assert list(programs(client_for("department"), ns1)) == ["resumption", "requests"]


def test_an_enterprise_in_no_program_says_so(users, client_for, city):
    url = reverse("registry:enterprise_detail", args=[city["ns2"].uscc])
    page = client_for("district").get(url).content.decode()
    assert "data-programs-empty" in page and "还没有参与您可查看的惠企项目" in page
    assert "项目上线后" not in page


def test_a_new_program_adds_itself(monkeypatch, users, client_for, city):
    """A program declares ENTERPRISE_PROGRAMS in its site.py; the page shows it in its place."""
    extra = EnterpriseProgram("pool", "风险补偿", lambda user, e: {"facts": [("申请", 2)], "url": "/pool/"},
                              order=5)
    found = discovery.enterprise_programs
    monkeypatch.setattr(discovery, "enterprise_programs", lambda: [extra, *found()])
    shown = programs(client_for("district"), city["ns2"])
    assert list(shown) == ["pool"] and "申请" in shown["pool"] and 'href="/pool/"' in shown["pool"]
