"""The small demo city's risk-compensation pool: the figures its plan lands on at 2020-04-30, claims that went
through two people of the bureau, the bureau's pool work waiting, and the interest subsidy's figures left as
they were."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from conftest import rows_kept_for_scope

from huiqi.accounts.models import User
from huiqi.core.models import AuditEvent
from huiqi.pool import selectors
from huiqi.pool.demo import PLANS, POOL_SIZE_FEN, SHOWN_ON
from huiqi.pool.models import Claim, PoolEntry
from huiqi.site.todos import todos_for


@pytest.fixture(scope="module")
def _demo_city(request, django_db_setup, django_db_blocker, tmp_path_factory):
    with rows_kept_for_scope(request, django_db_blocker):
        with django_db_blocker.unblock(), override_settings(DATA_DIR=tmp_path_factory.mktemp("demo")):
            out = io.StringIO()
            call_command("demo", stdout=out, stderr=io.StringIO())
        yield out.getvalue()


@pytest.fixture
def demo(_demo_city, db):
    return _demo_city


def test_the_small_demo_lands_on_its_plans_figures(demo):
    bureau = User.objects.get(username="bureau")
    f = selectors.figures(bureau, SHOWN_ON)
    plan = PLANS["small"]
    assert (f["banks_signed"], f["banks_onboarded"]) == (42, 35)
    assert (f["loans"], f["principal_fen"], f["borrowers"]) == (2_400, 960_000_000_000, 1_950) \
        == (plan.loans, plan.principal_fen, plan.borrowers)
    assert (f["claims"], f["completed"], f["paid_fen"], f["bank_times"]) == (12, 10, 987_654_321, 4)
    assert f["balance_fen"] == POOL_SIZE_FEN - 987_654_321
    # The banks paid are the three with the least lending registered; with the earlier loans they hold 7.5 亿元.
    assert (f["banks_benefited"], f["leveraged_fen"]) == (3, 75_000_000_000) == (3, plan.leveraged_fen)
    # At the start of 2020 fewer claims were done: each was decided on its own day.
    assert selectors.figures(bureau, dt.date(2020, 1, 1))["completed"] < 10
    assert "入库贷款 2,400 笔" in demo and "4 家（次）" in demo


def test_every_claim_went_through_its_bank_and_two_people_of_the_bureau(demo):
    done = Claim.objects.filter(status="approved").select_related("filed_by", "reviewed_by", "decided_by")
    assert done.count() == 10
    assert sorted(done.values_list("outcome", flat=True)) == ["approve"] * 9 + ["partial"]
    for claim in done:
        assert claim.filed_by.role == "bank" and claim.filed_by.bank_id == claim.bank_id
        assert (claim.reviewed_by.username, claim.decided_by.username) == ("bureau2", "bureau3")
        actors = dict(AuditEvent.objects.filter(model="pool.Claim", object_id=str(claim.pk),
                                                action__in=["pool.file", "pool.review", "pool.approve"])
                      .values_list("action", "actor__username"))
        assert actors == {"pool.file": claim.filed_by.username, "pool.review": "bureau2",
                          "pool.approve": "bureau3"}
        # Days in Beijing, as the services date them (a moment's UTC date is the day before after 16:00 UTC).
        reviewed_on, decided_on = (timezone.localdate(claim.reviewed_at), timezone.localdate(claim.decided_at))
        assert claim.filed_on < reviewed_on < decided_on <= SHOWN_ON
        paid = PoolEntry.objects.get(claim=claim, kind="payout")
        assert (paid.on, -paid.amount_fen) == (decided_on, claim.paid_fen)
    # The bureau's pool work waits on the demo's day: one to review, one reviewed by bureau2 to decide.
    waiting = {t["name"]: t["count"] for t in todos_for(User.objects.get(username="bureau"))}
    assert waiting["pool.claims_to_review"] == 1 and waiting["pool.claims_to_decide"] == 1
    assert "pool.claims_to_decide" not in {t["name"] for t in todos_for(User.objects.get(username="bureau2"))}


def test_the_pools_loans_leave_the_interest_subsidy_as_it_was(demo):
    from huiqi.subsidy.models import SubsidyBatch
    from huiqi.subsidy.services import compute

    waiting = SubsidyBatch.objects.order_by("-pk").first()
    assert waiting.status != "released"
    again = compute.simulate(None, waiting.cutoff)
    assert (len(again.beneficiaries), again.payable_total) == (waiting.beneficiaries,
                                                               waiting.payable_total_fen)
