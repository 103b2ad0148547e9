"""The per-policy funnel (``policy-hub.md``, 政策转化漏斗): per item and period, distinct enterprises at each step
(views, pushes, opens, applications, approvals) and the money paid, step rates half-up to 0.1 %; an ``auto``
item's applications and approvals from its confirmed and payment lists; each reader's items only; the page
and the workbook."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from huiqi.accounts.services import create_user
from huiqi.core import clock
from huiqi.core.tabular import read_table
from huiqi.policies import push, rules, selectors_funnel, services
from huiqi.policies.models import AutoEntry, AutoList, PolicyItem, PushEntry, PushMessage
from huiqi.registry.models import Agency

DAY = dt.date(2020, 4, 2)
COMPANY = {"id": "L1", "field": "kind", "op": "eq", "value": "enterprise"}


def test_step_rates_are_half_up_to_a_tenth_of_a_percent_exactly():
    assert rules.step_rate(1, 16) == Decimal("6.3")      # 6.25 → 6.3 (half-up; half-even would give 6.2)
    assert rules.step_rate(1, 8) == Decimal("12.5")
    assert rules.step_rate(2, 3) == Decimal("66.7") and rules.step_rate(1, 3) == Decimal("33.3")
    assert rules.step_rate(0, 5) == Decimal("0.0") and rules.step_rate(7, 7) == Decimal("100.0")
    assert rules.step_rate(3, 0) is None
    assert rules.funnel_rates({"views": 4, "pushes": 8, "opens": 2, "applications": 1, "approvals": 0}) == {
        "pushes": Decimal("200.0"), "opens": Decimal("25.0"), "applications": Decimal("50.0"),
        "approvals": Decimal("0.0")}


def _publish(users, reviewer, code, **content):
    data = {"title": f"事项{code}", "mode": "application", "opens": "2020-03-01", "closes": "2020-06-30",
            "criteria": COMPANY, **content}
    v = services.save_draft(users["bureau"], code, data, department=Agency.objects.get(code="SME-SZ"))
    services.submit(users["bureau"], v)
    services.publish(reviewer, v, dt.date(2020, 3, 1))
    return PolicyItem.objects.get(code=code)


def _message(enterprise, item, day, *, opened=False, state=PushMessage.State.SENT, n=[0]):
    n[0] += 1
    m = PushMessage.objects.create(enterprise=enterprise, channel="inbox", day=day, token=f"t{n[0]:031d}",
                                   scheduled_at=timezone.now(), state=state,
                                   opened_at=timezone.now() if opened else None)
    PushEntry.objects.create(message=m, item=item, version=item.versions.last(), reason=PushEntry.Reason.NEW_MATCH)


@pytest.fixture
def world(users, city):
    reviewer = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)
    with clock.fixed(DAY):
        grant = _publish(users, reviewer, "GRANT", repeatable=True)
        auto = _publish(users, reviewer, "AUTO", mode="auto")
    ns1, ft1, ns2 = city["ns1"], city["ft1"], city["ns2"]
    # Views: ns1 twice and ft1 once on the day, two anonymous views; ns2 a month later (outside the period).
    push.record_view(grant, [ns1.pk], DAY)
    push.record_view(grant, [ns1.pk], DAY)
    push.record_view(grant, [ft1.pk], DAY)
    push.record_view(grant, [], DAY)
    push.record_view(grant, [], DAY)
    push.record_view(grant, [ns2.pk], DAY + dt.timedelta(days=30))
    # Pushes: ns1 and ns2 sent (ns1 opened), ft1's message failed (not a push).
    _message(ns1, grant, DAY, opened=True)
    _message(ns2, grant, DAY)
    _message(ft1, grant, DAY, state=PushMessage.State.FAILED)
    # Applications: ns1 twice (one enterprise), approved and paid 2,500.00 元; ft1 submitted only.
    with clock.fixed(DAY):
        a = services.submit_application(users["enterprise"], enterprise=ns1, code="GRANT")
        services.move_application(users["department"], a, "accept")
        services.move_application(users["department"], a, "approve", amount_fen=300_000)
        services.move_application(users["department"], a, "pay", amount_fen=250_000)
        services.submit_application(users["enterprise"], enterprise=ns1, code="GRANT")  # repeatable
        services.submit_application(users["enterprise2"], enterprise=ft1, code="GRANT")
    # The auto item: a reconciled list of three listed entries (one paid 1,000.00 元, one failed) and one removed.
    at = timezone.make_aware(dt.datetime.combine(DAY, dt.time(10)))
    lst = AutoList.objects.create(item=auto, list_date=DAY, status="reconciled", confirmed_at=at,
                                  payment_prepared_at=at, reconciled_at=at)
    for ent, pay, status in ((ns1, "paid", "listed"), (ft1, "failed", "listed"), (ns2, "", "removed")):
        AutoEntry.objects.create(auto_list=lst, beneficiary_id=ent.uscc, name=ent.name, enterprise=ent,
                                 amount_fen=100_000, status=status, payment=pay)
    return {"grant": grant, "auto": auto, **users, **city}


def test_each_step_counts_distinct_enterprises_with_its_rate(world):
    rows, total = selectors_funnel.funnel(world["bureau"], DAY, DAY)
    by = {r.code: r for r in rows}
    g = by["GRANT"]
    assert (g.views, g.anonymous_views, g.pushes, g.opens, g.applications, g.approvals, g.paid_fen) == (
        2, 2, 2, 1, 2, 1, 250_000)
    assert g.rates == {"pushes": Decimal("100.0"), "opens": Decimal("50.0"), "applications": Decimal("200.0"),
                       "approvals": Decimal("50.0")}
    a = by["AUTO"]
    assert (a.views, a.pushes, a.applications, a.approvals, a.paid_fen) == (0, 0, 2, 2, 100_000)
    assert (total.views, total.applications, total.approvals, total.paid_fen) == (2, 4, 3, 350_000)
    # A later period holds only ns2's view; a period with nothing lists nothing.
    later = {r.code: r for r in selectors_funnel.funnel(world["bureau"], DAY + dt.timedelta(days=1),
                                                        DAY + dt.timedelta(days=40))[0]}
    assert (later["GRANT"].views, later["GRANT"].applications) == (1, 0) and "AUTO" not in later
    assert selectors_funnel.funnel(world["bureau"], dt.date(2021, 1, 1), dt.date(2021, 2, 1))[0] == []


def test_a_department_reads_its_own_items_and_others_none(world):
    assert {r.code for r in selectors_funnel.funnel(world["department"], DAY, DAY)[0]} == {"GRANT", "AUTO"}
    miit = create_user(None, username="miit", password="x-Long-enough-9", role="department", check_password=False,
                       agency=Agency.objects.get(code="MIIT-SZ"))
    assert selectors_funnel.funnel(miit, DAY, DAY)[0] == []
    assert selectors_funnel.funnel(world["enterprise"], DAY, DAY)[0] == []


def test_the_page_and_the_workbook(world, client_for, tmp_path):
    c = client_for("bureau")
    page = c.get("/policies/funnel/", {"from": "2020-04-02", "to": "2020-04-02"}).content.decode()
    assert "事项GRANT" in page and "事项AUTO" in page and "200.0%" in page and "2,500.00" in page
    narrowed = c.get("/policies/funnel/", {"from": "2020-04-02", "to": "2020-04-02", "mode": "auto"}).content.decode()
    assert "事项AUTO</a>" in narrowed and "事项GRANT</a>" not in narrowed
    bad = c.get("/policies/funnel/", {"from": "2020-13-40"}).content.decode()
    assert "data-errors" in bad and "开始日期" in bad
    r = c.get("/policies/funnel/export.xlsx", {"from": "2020-04-02", "to": "2020-04-02"})
    assert r.status_code == 200
    path = tmp_path / "funnel.xlsx"
    path.write_bytes(b"".join(r.streaming_content) if r.streaming else r.content)
    table = read_table(path)
    rows = {row[0]: row for _n, row in table.rows()}
    assert [str(v) for v in rows["GRANT"][3:10]] == ["2", "2", "2", "1", "2", "1", "2500"]
    english = client_for("bureau")
    english.cookies["django_language"] = "en"
    assert "Policy funnel" in english.get("/policies/funnel/", {"from": "2020-04-02"}).content.decode()
