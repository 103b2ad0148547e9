"""Two approvals of one application at once: one wins, the other is refused (PostgreSQL's row locks; SQLite
serialises writers anyway, so the race is run where it can happen)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from huiqi.core.errors import Conflict
from huiqi.fund import services
from huiqi.fund.models import Application

from .conftest import WAN, D, apply, walk_to_decision

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="a race needs PostgreSQL's row locks")


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_one_wins(fund_world):
    from conftest import PASSWORD
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import FundInstitution

    third = create_user(None, username="hti_third", password=PASSWORD, role="institution", check_password=False,
                        institution=FundInstitution.objects.get(code="SZHTI"))
    app = apply(fund_world, "E6", "hti", D(2020, 4, 20), 300)
    walk_to_decision(fund_world, app, D(2020, 4, 22), D(2020, 5, 8))
    maker, checker = fund_world.staff["hti"]
    services.propose_decision(maker, app, outcome="approve", amount_fen=300 * WAN, term_months=12)
    barrier, results = threading.Barrier(2), []

    def approve(user):
        try:
            barrier.wait()
            services.confirm_decision(user, app, day=D(2020, 5, 14))
            results.append("won")
        except Conflict as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (checker, third)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["fund.illegal_transition", "won"]
    assert Application.objects.get(pk=app.pk).state == "approved"
