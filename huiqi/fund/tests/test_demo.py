"""The small demo city's stable-development fund: the seed's figures at 2020-05-15 through the services,
applications in every state, decisions by two people, and the channels' proposals waiting for their checker."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from conftest import rows_kept_for_scope

from huiqi.core.models import AuditEvent
from huiqi.fund import rules, selectors
from huiqi.fund.demo import SHOWN_ON
from huiqi.fund.models import Application


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


SEED_LINE = ("截至5月15日，累计收到709家企业的资金申请；累计决策为190家中小企业提供资金支持25.99亿元；"
             "已向179家中小企业发放支持资金23.15亿元。")


def test_the_demo_prints_the_seeds_figures(demo):
    fund = selectors.funnel(SHOWN_ON)[-1]
    assert (fund.enterprises_applied, fund.enterprises_decided, fund.enterprises_disbursed) == (709, 190, 179)
    assert (fund.amount_decided_fen, fund.amount_disbursed_fen) == (2_599_000_000_00, 2_315_000_000_00)
    assert rules.funnel_line(SHOWN_ON, fund) == SEED_LINE
    assert SEED_LINE in demo


def test_every_state_is_there_and_went_through_the_services(demo):
    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(rules.STATES)
    approved = Application.objects.filter(approved_fen__isnull=False)
    assert not approved.filter(decided_by=None).exists()
    assert all(a.proposed_by_id != a.decided_by_id for a in approved)
    assert AuditEvent.objects.filter(action="fund.approve").count() == approved.count()
    # No enterprise above the cap across its applications.
    from django.db.models import Sum

    over = (Application.objects.filter(approved_fen__isnull=False).values("uscc")
            .annotate(t=Sum("approved_fen")).filter(t__gt=3_000_000_000))
    assert not over.exists()
