"""Issue 18 (re-pricing): a registration keeps the terms it was registered under when the bureau changes the
ratio table, unless the bureau re-prices a set of loans on purpose: previewed, proposed by one person,
approved by another after a confirmation, applied in a job, every changed registration audited."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from huiqi.core import jobs, params
from huiqi.core.models import AuditEvent
from huiqi.pool import rules, selectors, services
from huiqi.pool.models import Registration, Repricing
from huiqi.pool.services import ClaimInput
from huiqi.pool.tests.test_claims import TODAY, people  # noqa: F401  (the fixture)
from huiqi.registry.models import Bank

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _lower_window_ratio(people, ratio="0.60"):
    """The bureau's new table from TODAY: loans started in the window are covered at ``ratio``."""
    stored = params.value("pool.params", on=TODAY)
    params.set_value(people["maker"], "pool.params", "pool", {**stored, "window_ratio": ratio}, TODAY, today=TODAY)


def _ratios():
    return {r.loan.loan_no: r.ratio for r in Registration.objects.select_related("loan").filter(reason="")}


def test_a_new_table_leaves_registered_loans_as_they_were(people):
    _lower_window_ratio(people)
    assert _ratios() == {"1": Decimal("0.3"), "2": Decimal("0.5"), "3": Decimal("0.8"), "5": Decimal("0.8")}
    claim = services.file_claim(people["b1"], ClaimInput("B1", "3"))
    assert claim.ratio == Decimal("0.8")


def test_the_preview_counts_the_loans_and_the_liability_that_change(people):
    _lower_window_ratio(people)
    b1 = Bank.objects.get(code="B1")
    chosen = selectors.RepricingSet(TODAY, b1.pk)
    # Before the NPLs every covered loan performs: 1,000,000.00 each at 0.3, 0.5, 0.8, 0.8, then 0.6 for 3 and 5.
    early = selectors.repricing_preview(people["maker"], chosen, dt.date(2020, 8, 31))
    assert (early["matched"], early["changed"]) == (4, 2)
    assert early["liability_before_fen"] == sum(rules.compensation_fen(100_000_000, Decimal(r))
                                                for r in ("0.3", "0.5", "0.8", "0.8"))
    assert early["liability_after_fen"] == early["liability_before_fen"] - 2 * 20_000_000
    assert [s.loan_no for s in early["sample"]] == ["3", "5"]
    # The set narrows by product and registration day; a bank's staff preview nothing.
    first_loans = selectors.repricing_preview(people["maker"], selectors.RepricingSet(TODAY, product="first_loan"), TODAY)
    assert (first_loans["matched"], first_loans["changed"]) == (1, 0)
    later = selectors.RepricingSet(TODAY, registered_from=dt.date(2020, 3, 1))
    assert selectors.repricing_preview(people["maker"], later, TODAY)["matched"] == 2
    assert selectors.repricing_preview(people["b1"], chosen, TODAY)["matched"] == 0


def test_one_proposes_another_approves_and_the_job_applies_what_was_previewed(people, settings):
    _lower_window_ratio(people)
    maker, checker = _client(people["maker"]), _client(people["checker"])
    query = {"bank": "B1", "product": "any", "table_on": TODAY.isoformat()}
    page = maker.get("/pool/reprice/", query).content.decode()
    assert "data-repricing-preview" in page and 'data-figure="changed">2<' in page and 'data-figure="matched">4<' in page
    # A proposal needs its reason; every error at once, nothing saved.
    r = maker.post("/pool/reprice/", {**query, "note": ""})
    assert r.status_code == 400 and 'href="#id_note"' in r.content.decode() and not Repricing.objects.exists()
    r = maker.post("/pool/reprice/", {**query, "note": "新比例表适用于窗口期贷款"})
    repricing = Repricing.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/pool/reprice/{repricing.pk}/"
    assert (repricing.status, repricing.matched, repricing.changed) == ("proposed", 4, 2)
    assert _ratios()["3"] == Decimal("0.8")  # nothing changes before the second person
    # The second person finds it among their to-dos; the proposer does not, and may not decide.
    assert "待审批的重新定价" in checker.get("/").content.decode()
    assert "待审批的重新定价" not in maker.get("/").content.decode()
    listed = checker.get("/pool/reprice/", {"status": "proposed", "to_decide": "1"}).content.decode()
    assert f'data-repricing="{repricing.pk}"' in listed
    assert 'data-action-form="decide"' not in maker.get(r["Location"]).content.decode()
    assert maker.post(r["Location"], {"decision": "approve", "confirm": "on"}).status_code == 403
    with pytest.raises(Exception):
        services.approve_repricing(people["maker"], repricing.pk)
    # The second person confirms before the irreversible step.
    r2 = checker.post(r["Location"], {"decision": "approve"})
    assert r2.status_code == 400 and 'href="#id_confirm"' in r2.content.decode()
    r2 = checker.post(r["Location"], {"decision": "approve", "confirm": "on", "note": "同意"})
    assert r2.status_code == 302 and r2["Location"].startswith("/core/jobs/")
    assert jobs.run_pending() == 1
    repricing.refresh_from_db()
    assert (repricing.status, repricing.applied) == ("applied", repricing.changed)
    assert _ratios() == {"1": Decimal("0.3"), "2": Decimal("0.5"), "3": Decimal("0.6"), "5": Decimal("0.6")}
    repriced = Registration.objects.filter(repriced_at__isnull=False).select_related("loan")
    assert sorted(r.loan.loan_no for r in repriced) == ["3", "5"]
    trail = AuditEvent.objects.filter(action="pool.reprice").order_by("object_repr")
    assert [(e.object_repr, e.before["ratio"], e.after["ratio"], e.before["cap"], e.after["cap"]) for e in trail] == [
        ("B1/3", "0.8000", "0.6000", "0.8000", "0.8000"), ("B1/5", "0.8000", "0.6000", "0.8000", "0.8000")]
    assert all(e.actor == people["checker"] for e in trail)
    assert set(AuditEvent.objects.filter(model="pool.Repricing").values_list("action", flat=True)) == {
        "pool.reprice_propose", "pool.reprice_approve", "pool.reprice_apply"}
    # A claim filed now is assessed at the re-priced ratio.
    assert services.file_claim(people["b1"], ClaimInput("B1", "3")).ratio == Decimal("0.6")
    # Applied once: approving or applying again is refused.
    with pytest.raises(Exception):
        services.apply_repricing(people["checker"], repricing.pk)


def test_nothing_to_change_is_refused_and_a_rejection_changes_nothing(people):
    r = _client(people["maker"]).post("/pool/reprice/", {"product": "any", "table_on": TODAY.isoformat(),
                                                         "note": "核对"})
    assert r.status_code == 400 and 'href="#id_table_on"' in r.content.decode()
    _lower_window_ratio(people)
    repricing = services.propose_repricing(people["maker"], selectors.RepricingSet(TODAY), "核对")
    services.reject_repricing(people["checker"], repricing.pk, "暂不调整")
    repricing.refresh_from_db()
    assert repricing.status == "rejected" and _ratios()["3"] == Decimal("0.8")


def test_only_the_bureau_reprices(people):
    assert _client(people["b1"]).get("/pool/reprice/").status_code == 403
    assert _client(people["b1"]).post("/pool/reprice/", {"table_on": TODAY.isoformat(), "note": "x"}).status_code == 403
