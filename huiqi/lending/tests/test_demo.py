"""The demo bank ledger: deterministic from its seed, borrowers from the demo registry with valid
identifiers, loans only at onboarded banks, monthly payments inside each loan's life, the mix the
programs need (in and out of the epidemic window, operating and other, extensions, first loans, NPLs),
and a second build that changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command

from conftest import rows_kept_for_scope
from huiqi.core.identifiers import uscc_entity_kind, validate_resident_id, validate_uscc
from huiqi.lending import demo as ledger
from huiqi.registry import demo as registry_demo

WINDOW = (dt.date(2020, 2, 1), dt.date(2020, 6, 30))


@pytest.fixture(scope="module")
def pure_inputs():
    """Borrowers and onboarded banks from the registry demo's pure generator (no database)."""
    city = registry_demo.generate("small", 2020)
    enterprises = [(e.uscc, e.name, e.kind, e.size_class) for e in city.enterprises]
    owners = [(o.resident_id, o.name, [city.enterprises[i].uscc for i in o.owns]) for o in city.owners]
    banks = [b.code for b in city.banks if b.onboarded_date is not None]
    return ledger.borrowers_from(enterprises, owners), banks


@pytest.fixture(scope="class")
def _built_once(request, django_db_setup, django_db_blocker):
    """The small demo registry and ledger, built once for the tests that read them (their class)."""
    from django.test import override_settings

    with rows_kept_for_scope(request, django_db_blocker):
        with django_db_blocker.unblock(), override_settings(HUIQI_PROGRESS_CONNECTION=False):
            registry_demo.build_demo("small", 2020)
            counts = ledger.build_ledger_demo("small", 2020)
        yield counts


@pytest.fixture
def built(_built_once, db):
    """What the build counted; the database as it left it (each test rolls back to it)."""
    return dict(_built_once)


def _payments(data):
    return list(data.payments())


def test_add_months_and_interest():
    assert ledger.add_months(dt.date(2020, 3, 31), 6) == dt.date(2020, 9, 30)
    assert ledger.add_months(dt.date(2020, 8, 31), 6) == dt.date(2021, 2, 28)
    assert ledger.add_months(dt.date(2019, 11, 30), 3) == dt.date(2020, 2, 29)
    assert ledger.add_months(dt.date(2020, 1, 15), 12) == dt.date(2021, 1, 15)
    # 1,000,000.00 yuan at 4.35 % for 31 days: 3745.833… → 3745.83; half a fen rounds up.
    assert ledger.period_interest_fen(100_000_000, 43_500, 31) == 374_583
    assert ledger.period_interest_fen(100, 1_800_000, 1) == 1  # 1.00 yuan at 180 % for a day: 0.5 fen
    assert ledger.period_interest_fen(100, 1_799_999, 1) == 0


def test_same_seed_same_ledger(pure_inputs):
    borrowers, banks = pure_inputs
    one = ledger.generate("small", 2020, borrowers=borrowers, banks=banks)
    two = ledger.generate("small", 2020, borrowers=borrowers, banks=banks)
    assert [(ln.bank_code, ln.loan_no, ln.principal_fen) for ln in one.loans] == \
        [(ln.bank_code, ln.loan_no, ln.principal_fen) for ln in two.loans]
    assert one.loans == two.loans
    assert one.npls == two.npls
    assert _payments(one) == _payments(two)
    other = ledger.generate("small", 2021, borrowers=borrowers, banks=banks)
    assert [ln.principal_fen for ln in other.loans] != [ln.principal_fen for ln in one.loans]


def test_generated_ledger_shape(pure_inputs):
    borrowers, banks = pure_inputs
    data = ledger.generate("small", 2020, borrowers=borrowers, banks=banks)
    loans = data.loans
    assert len(loans) == ledger.SCALES["small"]
    assert len({(ln.bank_code, ln.loan_no) for ln in loans}) == len(loans)
    assert {ln.bank_code for ln in loans} <= set(banks)
    for ln in loans:
        assert ln.loan_no.startswith(f"{ln.bank_code}-{ln.start_date.year}-")
        assert ledger.PRINCIPAL_MIN_FEN <= ln.principal_fen <= ledger.PRINCIPAL_MAX_FEN
        assert Decimal("3.0") <= ln.annual_rate <= Decimal("8.5")
        assert ln.annual_rate == ln.annual_rate.quantize(Decimal("0.0001"))
        assert dt.date(2019, 7, 1) <= ln.start_date <= dt.date(2020, 12, 31)
        assert ledger.add_months(ln.start_date, 6) <= ln.maturity_date <= ledger.add_months(ln.start_date, 36)
    counts = data.counts()
    # Every borrower of the registry borrows; the small scale has few repeat borrowers.
    assert counts["borrowers"] == len(borrowers)
    in_window = counts["window_loans"] / len(loans)
    assert 0.5 < in_window < 0.8
    assert 0.8 < counts["operating"] / len(loans) < 0.95
    assert 0.10 < counts["first_loans"] / len(loans) < 0.20
    assert counts["extensions"] == round(len(loans) * ledger.EXTENSION_SHARE)
    assert 0.01 <= counts["npls"] / len(loans) <= 0.02
    assert {ln.guarantee for ln in loans} == set(ledger.GUARANTEES)
    # Some principals are whole 万元, some carry fen.
    assert any(ln.principal_fen % 1_000_000 == 0 for ln in loans)
    assert any(ln.principal_fen % 100 for ln in loans)
    # Rates with 2, 3 and 4 decimals.
    assert {len(str(ln.annual_rate.normalize()).partition(".")[2]) for ln in loans} >= {2, 3, 4}


class TestTheSmallLedger:
    """Read the built ledger. In a class of their own: its rows stay for these tests only, and other
    tests of the module see an empty ledger."""

    def test_small_ledger_builds_as_generated(self, built):
        from huiqi.core.models import AuditEvent
        from huiqi.lending.models import InterestPayment, Loan, NonPerformingLoan

        assert Loan.objects.count() == ledger.SCALES["small"] == built["loans"]
        assert InterestPayment.objects.count() == built["payments"] > 10 * built["loans"] // 2
        assert NonPerformingLoan.objects.count() == built["npls"] > 0
        # The stored ledger is the generator's output for the same registry and seed.
        borrowers, banks = ledger.registry_inputs()
        data = ledger.generate("small", 2020, borrowers=borrowers, banks=banks)
        stored = list(Loan.objects.order_by("bank__code", "loan_no").values_list(
            "bank__code", "loan_no", "borrower_id", "principal_fen", "annual_rate", "start_date",
            "maturity_date", "extension_of"))
        generated = sorted((ln.bank_code, ln.loan_no, ln.borrower_id, ln.principal_fen, ln.annual_rate,
                            ln.start_date, ln.maturity_date, ln.extension_of) for ln in data.loans)
        assert stored == generated
        payments = _payments(data)
        assert len(payments) == built["payments"]
        assert sum(p.interest_fen for p in payments) == built["interest_fen"]
        # One batch-level audit record for the bulk rows.
        batch = AuditEvent.objects.filter(action="demo", model="lending.Loan")
        assert batch.count() == 1
        assert batch.get().after["loans"] == ledger.SCALES["small"]
        assert batch.get().after["payments"] == built["payments"]


    def test_borrowers_are_valid_and_in_the_registry(self, built):
        from huiqi.lending.models import Loan
        from huiqi.registry.models import BusinessOwner, Enterprise

        kinds = dict(Enterprise.objects.values_list("uscc", "kind"))
        owned = defaultdict(set)
        for rid, uscc in BusinessOwner.enterprises.through.objects.values_list(
                "businessowner__resident_id", "enterprise__uscc"):
            owned[rid].add(uscc)
        names = dict(Enterprise.objects.values_list("uscc", "name"))
        names.update(BusinessOwner.objects.values_list("resident_id", "name"))
        seen = defaultdict(int)
        for borrower_id, name, kind, owner_of in Loan.objects.values_list(
                "borrower_id", "borrower_name", "borrower_kind", "owner_of"):
            seen[kind] += 1
            assert names[borrower_id] == name
            if kind == "business_owner":
                assert validate_resident_id(borrower_id) == borrower_id
                assert owner_of in owned[borrower_id]
            else:
                assert validate_uscc(borrower_id) == borrower_id
                assert uscc_entity_kind(borrower_id) == kind == kinds[borrower_id]
                assert borrower_id.startswith("91" if kind == "enterprise" else "92")
                assert owner_of == ""
        assert set(seen) == {"enterprise", "individual_business", "business_owner"}
        assert seen["enterprise"] > seen["business_owner"] > seen["individual_business"] > 0
        # Everyone in the registry borrows at least once.
        assert Loan.objects.values("borrower_id").distinct().count() == len(kinds) + len(owned)


    def test_only_onboarded_banks_lend(self, built):
        from huiqi.lending.models import Loan
        from huiqi.registry.models import Bank

        lending = set(Loan.objects.values_list("bank__code", flat=True).distinct())
        onboarded = set(Bank.objects.filter(onboarded_date__isnull=False).values_list("code", flat=True))
        assert lending <= onboarded
        assert len(onboarded) == registry_demo.BANKS_ONBOARDED
        assert len(lending) >= 30
        assert not Loan.objects.filter(bank__onboarded_date__isnull=True).exists()


    def test_payments_lie_within_each_loans_life(self, built):
        from huiqi.lending.models import InterestPayment, Loan, NonPerformingLoan

        loans = {pk: (start, maturity, principal, rate) for pk, start, maturity, principal, rate in
                 Loan.objects.values_list("id", "start_date", "maturity_date", "principal_fen",
                                          "annual_rate")}
        npl = dict(NonPerformingLoan.objects.values_list("loan_id", "npl_date"))
        by_loan = defaultdict(list)
        late = 0
        for loan_id, s, e, paid, fen in InterestPayment.objects.values_list(
                "loan_id", "accrual_start", "accrual_end", "paid_date", "interest_fen"):
            start, maturity, principal, rate = loans[loan_id]
            assert start <= s < e <= maturity
            assert e <= ledger.DATA_END
            assert e <= paid <= ledger.DATA_END
            late += paid != e
            assert fen > 0
            expected = (Decimal(principal) * rate / 100 * (e - s).days / 360).quantize(Decimal(1),
                                                                                       ROUND_HALF_UP)
            assert fen == expected
            if loan_id in npl:
                assert e <= npl[loan_id] - dt.timedelta(days=ledger.NPL_PAYMENTS_STOP_DAYS)
            by_loan[loan_id].append((s, e))
        assert 0 < late < 0.05 * sum(len(v) for v in by_loan.values())
        # Contiguous calendar months from the start date, none missing up to the data date.
        for loan_id, periods in by_loan.items():
            periods.sort()
            start, maturity, _, _ = loans[loan_id]
            assert periods[0][0] == start
            for k, (s, e) in enumerate(periods):
                assert s == (start if k == 0 else periods[k - 1][1])
                assert e == min(ledger.add_months(start, k + 1), maturity)
            if loan_id not in npl:
                nxt = min(ledger.add_months(start, len(periods) + 1), maturity)
                assert periods[-1][1] == maturity or nxt > ledger.DATA_END
        # Loans started before December 2020 that are performing have paid something.
        assert all(pk in by_loan for pk, (start, *_rest) in loans.items()
                   if start < dt.date(2020, 11, 30) and pk not in npl)


    def test_the_mix_the_programs_need(self, built):
        from huiqi.lending.models import Loan, NonPerformingLoan

        loans = Loan.objects.all()
        assert loans.filter(start_date__range=WINDOW).exists()
        assert loans.filter(start_date__lt=WINDOW[0]).exists()
        assert loans.filter(start_date__gt=WINDOW[1]).exists()
        in_window = loans.filter(start_date__range=WINDOW)
        assert in_window.count() > loans.exclude(start_date__range=WINDOW).count()
        assert loans.filter(purpose="operating").count() > 5 * loans.filter(purpose="other").count() > 0
        assert loans.filter(first_loan=True).exists() and loans.filter(first_loan=False).exists()
        # Extensions: an earlier loan of the same bank and borrower, starting on its maturity.
        extensions = list(loans.exclude(extension_of="").values_list(
            "bank_id", "borrower_id", "start_date", "extension_of", "first_loan"))
        assert len(extensions) == round(ledger.SCALES["small"] * ledger.EXTENSION_SHARE)
        originals = {(bank, no): (borrower, maturity) for bank, no, borrower, maturity in loans.values_list(
            "bank_id", "loan_no", "borrower_id", "maturity_date")}
        for bank, borrower, start, original, first in extensions:
            assert originals[(bank, original)] == (borrower, start)
            assert not first
        assert any(WINDOW[0] <= start <= WINDOW[1] for _, _, start, _, _ in extensions)
        # NPLs: declared in late 2020, after the loan started; recovered within outstanding within principal.
        for npl_date, outstanding, recovered, start, principal in NonPerformingLoan.objects.values_list(
                "npl_date", "outstanding_principal_fen", "recovered_fen", "loan__start_date",
                "loan__principal_fen"):
            assert dt.date(2020, 9, 1) <= npl_date <= dt.date(2020, 12, 31)
            assert start < npl_date
            assert 0 <= recovered <= outstanding <= principal
        assert NonPerformingLoan.objects.filter(recovered_fen__gt=0).exists()


    def test_second_build_changes_nothing(self, built):
        from huiqi.core.models import AuditEvent
        from huiqi.lending.models import InterestPayment, Loan

        before = (Loan.objects.count(), InterestPayment.objects.count(), AuditEvent.objects.count())
        with pytest.raises(ledger.LedgerDataExists) as exc:
            ledger.build_ledger_demo("small", 7)
        assert "nothing was changed" in exc.value.en
        assert (Loan.objects.count(), InterestPayment.objects.count(), AuditEvent.objects.count()) == before


def test_demo_command_builds_the_ledger_once(db):
    from huiqi.lending.models import InterestPayment, Loan

    out = io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())
    assert "demo ledger built" in out.getvalue()
    first = (Loan.objects.count(), InterestPayment.objects.count())
    # The ledger's own loans start from 2019-07; the pool's demo adds earlier ones through the import.
    assert Loan.objects.filter(start_date__gte=dt.date(*ledger.LEDGER_FIRST_MONTH, 1)).count() == ledger.SCALES["small"]

    out = io.StringIO()
    call_command("demo", stdout=out, stderr=io.StringIO())
    assert "nothing was changed" in out.getvalue()
    assert (Loan.objects.count(), InterestPayment.objects.count()) == first
