"""For the interest subsidy the compiled 免申即享 list IS a released batch of that program: its payments with
payable > 0 imported as they stand (read through the subsidy's selectors), nothing recomputed, the totals
equal to the batch's."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.core.errors import Conflict, ValidationFailed
from huiqi.policies import services, services_auto, selectors_auto
from huiqi.subsidy import services as subsidy
from huiqi.subsidy.tests.conftest import example, staff  # noqa: F401 - the subsidy's worked example

pytestmark = pytest.mark.django_db

DEC = dt.date(2020, 12, 31)


@pytest.fixture
def item(staff):  # noqa: F811
    version = services.save_draft(staff["bureau"], "SUBSIDY", {
        "title": "中小微企业贷款贴息", "mode": "auto", "opens": "2020-02-01", "closes": None,
        "criteria": {"field": "size_class", "op": "in", "value": ["medium", "small", "micro"]}})
    services.submit(staff["bureau"], version)
    services.publish(staff["admin"], version, dt.date(2020, 2, 1))
    return "SUBSIDY"


def test_the_released_batch_is_the_list_with_the_batchs_totals(example, staff, item, tmp_path):  # noqa: F811
    batch = subsidy.run_batch(staff["bureau"], DEC)
    with pytest.raises(ValidationFailed, match="尚未拨付"):
        services_auto.compile_subsidy_list(staff["bureau2"], item, batch.pk, dt.date(2021, 1, 5))
    subsidy.review(staff["bureau2"], batch)
    subsidy.approve(staff["bureau3"], batch)
    subsidy.release(staff["admin"], batch, tmp_path / "bank")
    batch.refresh_from_db()

    lst = services_auto.compile_subsidy_list(staff["bureau2"], item, batch.pk, dt.date(2021, 1, 5))
    totals = selectors_auto.list_totals(lst)
    assert (totals["listed"], totals["listed_fen"]) == (2, batch.payable_total_fen)
    assert dict(lst.entries.values_list("beneficiary_id", "amount_fen")) == {example.A: 2_026_666,
                                                                           example.X: 100_000_000}
    a = lst.entries.get(beneficiary_id=example.A)
    assert a.explanation["batch"] == batch.pk and a.explanation["entitlement_fen"] == 2_026_666
    assert a.enterprise == example.enterprises[example.A]
    assert "应享贴息 20,266.66 元" in str(selectors_auto.explained(a)[0])
    with pytest.raises(Conflict, match="已生成过名单"):
        services_auto.compile_subsidy_list(staff["bureau2"], item, batch.pk, dt.date(2021, 1, 5))

    # Then the hub's path: review by another, 公示, confirmation, a payment list with the batch's total.
    services_auto.review_list(staff["bureau"], lst)
    services_auto.publish_list(staff["bureau"], lst, dt.date(2021, 1, 6))
    services_auto.close_objections(staff["bureau"], lst, dt.date(2021, 1, 20))
    services_auto.confirm_list(staff["bureau"], lst)
    services_auto.prepare_payment(staff["bureau"], lst)
    assert (lst.payment_count, lst.payment_total_fen) == (2, batch.payable_total_fen)
