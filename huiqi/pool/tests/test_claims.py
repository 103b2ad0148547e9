"""Issue 18.1, 18.4, 18.5 and the bad input: banks' lifecycle, claims from filing to payment with two people,
the pool's ledger, recoveries and clawbacks; each refusal names its field and rule, nothing half-saved."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from huiqi.core import clock, params
from huiqi.core.errors import Conflict, DomainError, InvalidFields, PermissionDenied
from huiqi.core.models import AuditEvent
from huiqi.lending.models import Loan
from huiqi.pool import selectors, services
from huiqi.pool.models import Claim, PoolEntry
from huiqi.pool.services import ClaimInput
from huiqi.registry.models import Bank

pytestmark = pytest.mark.django_db
TODAY = dt.date(2020, 10, 15)


@pytest.fixture
def people(pool_example):
    from huiqi.accounts.services import create_user

    def mk(name, role, **kw):
        return create_user(None, username=name, password="x-Long-enough-9", role=role, check_password=False, **kw)

    b1, b2 = Bank.objects.get(code="B1"), Bank.objects.get(code="B2")
    out = {"b1": mk("b1", "bank", bank=b1), "b2": mk("b2", "bank", bank=b2), "maker": mk("maker", "bureau"),
           "checker": mk("checker", "bureau")}
    with clock.fixed(TODAY):
        stored = params.value("pool.params")
        params.set_value(out["maker"], "pool.params", "pool", {**stored, "claim_window_days": 90}, dt.date(2020, 9, 1),
                         today=dt.date(2020, 9, 1))
        yield out


def _fen(yuan):
    return int(yuan * 100)


def _approve(people, claim, outcome="approve", **kw):
    claim = services.review(people["maker"], claim, outcome, **kw)
    return services.decide(people["checker"], claim, True)


def test_the_worked_example_through_the_pages_services(people):
    services.top_up(people["maker"], _fen(700_000), dt.date(2020, 9, 1))
    paid = {}
    for no in ("1", "2", "3", "5"):
        claim = services.file_claim(people["b1"], ClaimInput("B1", no, idempotency_key=f"k{no}"))
        claim = _approve(people, claim)
        paid[no] = claim
    got = {no: (c.compensation_fen, Claim.objects.get(pk=c.pk).paid_fen) for no, c in paid.items()}
    assert got == {"1": (27_000_000, 27_000_000), "2": (16_666_667, 16_666_667), "3": (40_000_000, 26_333_333),
                   "5": (12_000_000, 0)}
    assert selectors.balance_fen() == 0
    # A top-up pays what is owed in approval order: loan 3 first, then loan 5.
    services.top_up(people["maker"], _fen(200_000))
    assert [Claim.objects.get(pk=paid[n].pk).paid_fen for n in ("3", "5")] == [40_000_000, 6_333_333]  # 200,000.00 − 136,666.67 owed on loan 3
    assert selectors.balance_fen() == 0
    # The balance as of a day sums the entries up to it: the payments were made on the day of approval.
    assert selectors.balance_fen(dt.date(2020, 9, 1)) == _fen(700_000)
    assert selectors.balance_fen(TODAY - dt.timedelta(days=1)) == _fen(700_000)
    # Every entry has its sign by kind; the ledger sums to the balance.
    assert PoolEntry.objects.filter(kind="payout", amount_fen__gte=0).count() == 0


def test_ineligible_claims_carry_their_reason_and_cannot_be_approved_in_full(people):
    claim = services.file_claim(people["b1"], ClaimInput("B1", "4"))
    assert claim.reason == "borrower_kind_not_covered_yet" and claim.compensation_fen == 0
    with pytest.raises(InvalidFields):
        services.review(people["maker"], claim, "approve")
    claim = services.review(people["maker"], claim, "deny", reason="borrower_kind_not_covered_yet")
    claim = services.decide(people["checker"], claim, True)
    assert claim.status == "denied" and claim.paid_fen == 0


def test_bad_claims_are_refused_naming_field_and_rule_and_nothing_is_saved(people):
    def refused(actor, data):
        with pytest.raises(DomainError) as caught:
            services.file_claim(actor, data)
        errors = getattr(caught.value, "errors", [caught.value])
        return {(e.code, e.field) for e in errors}

    assert refused(people["b2"], ClaimInput("B1", "1")) == {("pool.loan_of_another_bank", "loan_no")}
    assert refused(people["b1"], ClaimInput("B1", "nope")) == {("pool.loan_unknown", "loan_no")}
    assert refused(people["b1"], ClaimInput("B1", "1", outstanding_fen=_fen(2_000_000), recovered_fen=_fen(3_000_000))) == {
        ("pool.outstanding_above_principal", "outstanding_principal"), ("pool.recovered_above_outstanding", "recovered")}
    Loan.objects.filter(bank__code="B1", loan_no="2").update(registered_date=None)
    assert refused(people["b1"], ClaimInput("B1", "2")) == {("pool.loan_not_registered", "loan_no")}
    services.file_claim(people["b1"], ClaimInput("B1", "1"))
    assert refused(people["b1"], ClaimInput("B1", "1")) == {("pool.claim_open", "loan_no")}
    with clock.fixed(dt.date(2021, 1, 1)):  # 90 days after 2020-09-03 have passed
        assert ("pool.outside_claim_window", "npl_date") in refused(people["b1"], ClaimInput("B1", "3"))
    assert Claim.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database holds the rule too
        Claim.objects.create(bank=Bank.objects.get(code="B1"), loan=Loan.objects.get(bank__code="B1", loan_no="1"),
                             npl_date=TODAY, outstanding_fen=1, filed_by=people["b1"], filed_on=TODAY)


def test_an_npl_dated_before_registration_is_ineligible(people):
    Loan.objects.filter(bank__code="B1", loan_no="1").update(registered_date=dt.date(2020, 9, 30))
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1"))
    assert claim.reason == "npl_before_registration"


def test_the_idempotency_key_files_once(people):
    first = services.file_claim(people["b1"], ClaimInput("B1", "1", idempotency_key="abc"))
    again = services.file_claim(people["b1"], ClaimInput("B1", "1", idempotency_key="abc"))
    assert again.pk == first.pk and Claim.objects.count() == 1
    with pytest.raises(Conflict):
        services.file_claim(people["b1"], ClaimInput("B1", "2", idempotency_key="abc"))


def test_two_people_and_never_ones_own_review(people):
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1"))
    claim = services.review(people["maker"], claim, "partial", amount_fen=10_000_000, reason="amount_not_supported")
    with pytest.raises(PermissionDenied):
        services.decide(people["maker"], claim, True)
    with pytest.raises(PermissionDenied):
        services.review(people["b1"], claim, "approve")
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(decided_by=people["maker"])
    services.top_up(people["maker"], _fen(1_000_000))
    claim = services.decide(people["checker"], claim, True)
    assert (claim.status, claim.approved_fen, claim.paid_fen) == ("approved", 10_000_000, 10_000_000)
    actions = list(AuditEvent.objects.filter(model="pool.Claim", object_id=str(claim.pk)).values_list("action", flat=True))
    assert {"pool.file", "pool.review", "pool.approve", "pool.pay"} <= set(actions)


def test_return_for_repair_and_resubmit(people):
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1"))
    claim = services.review(people["maker"], claim, "return", reason="evidence_incomplete")
    assert claim.status == "returned"
    claim = services.resubmit(people["b1"], claim, ClaimInput("B1", "1", recovered_fen=_fen(200_000),
                                                             evidence="追偿判决书"))
    assert claim.status == "submitted" and claim.compensation_fen == _fen(240_000)


def test_recoveries_and_clawbacks_never_return_more_than_was_paid(people):
    services.top_up(people["maker"], _fen(1_000_000))
    claim = _approve(people, services.file_claim(people["b1"], ClaimInput("B1", "1")))
    assert claim.paid_fen == 27_000_000
    entry = services.report_recovery(people["b1"], claim, _fen(100_000))
    assert entry.amount_fen == 3_000_000  # 100,000.00 × 0.3
    services.report_recovery(people["b1"], claim, _fen(10_000_000))  # far more: only what is left of the paid
    claim.refresh_from_db()
    assert claim.returned_fen == claim.paid_fen
    with pytest.raises(InvalidFields) as caught:
        services.claw_back(people["maker"], claim, 1, "审计发现", repaid=True)
    assert caught.value.errors[0].code == "pool.clawback_above_paid"


def test_an_unpaid_clawback_is_offset_against_the_banks_next_payment(people):
    services.top_up(people["maker"], _fen(1_000_000))
    first = _approve(people, services.file_claim(people["b1"], ClaimInput("B1", "1")))
    services.claw_back(people["maker"], first, _fen(50_000), "审计发现贷款用途不合规", repaid=False)
    before = selectors.balance_fen()
    second = _approve(people, services.file_claim(people["b1"], ClaimInput("B1", "2")))
    first.refresh_from_db()
    assert first.clawback_settled_fen == _fen(50_000)
    assert selectors.balance_fen() == before - second.paid_fen + _fen(50_000)
    assert PoolEntry.objects.filter(kind="offset", claim=first).count() == 1


def test_banks_lifecycle_is_dated_and_ordered(people):
    bank = Bank.objects.get(code="B3")
    assert selectors.bank_state(bank, TODAY) == "signed"
    services.move_bank(people["maker"], bank, "onboarded", dt.date(2020, 10, 1), agreement_version="2020版")
    services.move_bank(people["maker"], bank, "suspended", dt.date(2020, 10, 5), note="不良率过高")
    bank.refresh_from_db()
    assert [selectors.bank_state(bank, d) for d in (dt.date(2020, 9, 30), dt.date(2020, 10, 2), dt.date(2020, 10, 6))] == [
        "signed", "onboarded", "suspended"]
    with pytest.raises(Conflict):
        services.move_bank(people["maker"], bank, "onboarded", dt.date(2020, 10, 7))
    with pytest.raises(PermissionDenied):
        services.move_bank(people["b1"], bank, "exited", dt.date(2020, 10, 7))
    services.move_bank(people["maker"], bank, "exited", dt.date(2020, 10, 7))
    assert selectors.bank_state(bank, dt.date(2020, 10, 8)) == "exited"


def test_registration_screens_once_with_reasons_and_fixes_the_ratio(people):
    from huiqi.pool.models import Registration

    got = {r.loan.loan_no: (r.reason, r.ratio, r.row) for r in Registration.objects.select_related("loan")}
    assert got["4"][0] == "borrower_kind_not_covered_yet" and got["6"][0] == "borrower_large"
    assert got["7"][0] == "bank_not_onboarded"
    assert got["3"] == ("", Decimal("0.8000"), "window") and got["2"] == ("", Decimal("0.5000"), "first_loan")
    # A later table does not re-price what was registered; registering again changes nothing.
    stored = params.value("pool.params")
    params.set_value(people["maker"], "pool.params", "pool", {**stored, "window_ratio": "0.6"}, TODAY, today=TODAY)
    assert services.register_loans() == {"registered": 0, "covered": 0}
    claim = services.file_claim(people["b1"], ClaimInput("B1", "3"))
    assert claim.ratio == Decimal("0.8")
