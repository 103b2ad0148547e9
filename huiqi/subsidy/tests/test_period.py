"""The subsidy period's arithmetic has one definition per form, each held to the pure rules.

The pure rules (``rules.add_months``, ``rules.subsidy_period``, ``rules.counted_interest``) are the
reference. The other forms: polars (``rules_columnar.period_end``, used by the rules over columns and
by the cut of the snapshot's payments, ``rules_columnar.payments_that_can_count``) and SQL
(``lending.selectors.months_after_sql``, used by the ledger's reads ``ledger_rows`` and, on
PostgreSQL, ``ledger_summed``). Month ends are where they could part, so the dates drawn lean there.
"""

from __future__ import annotations

import calendar
import datetime as dt
from fractions import Fraction

import polars as pl
import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from huiqi.lending import selectors
from huiqi.subsidy import rules, rules_columnar


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def days():
    """Any day from 2019 to 2023, half of them a month's last day or one of the three before it."""
    month_ends = st.builds(lambda y, m, back: _month_end(y, m) - dt.timedelta(days=back),
                           st.integers(2019, 2023), st.integers(1, 12), st.integers(0, 3))
    return st.one_of(st.dates(dt.date(2019, 1, 1), dt.date(2023, 12, 31)), month_ends)


MONTHS = st.integers(1, 36)


@given(st.lists(days(), min_size=1, max_size=40), MONTHS)
def test_the_columnar_period_end_is_the_rules(starts, months):
    ends = pl.DataFrame({"start_date": starts}, schema={"start_date": pl.Date}).select(
        rules_columnar.period_end(pl.col("start_date"), months)).to_series().to_list()
    assert ends == [rules.add_months(d, months) for d in starts]


def _sql_ends(starts: list[dt.date], months: int) -> list[dt.date]:
    """``selectors.months_after_sql`` evaluated by the database in use for each of ``starts``."""
    cast = "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"
    values = ", ".join(f"({i}, {cast})" for i in range(len(starts)))
    with connection.cursor() as cur:
        cur.execute(f"WITH v(i, d) AS (VALUES {values}) "
                    f"SELECT {selectors.months_after_sql('v.d', months)} FROM v ORDER BY v.i", starts)
        ends = [row[0] for row in cur.fetchall()]
    return [dt.date.fromisoformat(e) if isinstance(e, str) else e for e in ends]


@pytest.mark.django_db
def test_the_sql_period_end_is_the_rules_on_every_day():
    """Every day from 2019-11-28 to 2021-03-31 (two February ends, a leap day), 1 to 13 months on."""
    starts = [dt.date(2019, 11, 28) + dt.timedelta(days=i) for i in range(490)]
    for months in range(1, 14):
        assert _sql_ends(starts, months) == [rules.add_months(d, months) for d in starts]
    assert _sql_ends([dt.date(2020, 8, 31)], 6) == [dt.date(2021, 2, 28)]


@pytest.mark.django_db
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(days(), min_size=1, max_size=40), MONTHS)
def test_the_sql_period_end_is_the_rules(starts, months):
    assert _sql_ends(starts, months) == [rules.add_months(d, months) for d in starts]


# --------------------------------------------------------------------------------------------------
# The ledger's reads for the subsidy, on random loans and payments around their period's ends

WINDOW = (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
CUTOFF = dt.date(2021, 6, 30)


@st.composite
def ledgers(draw):
    """(months, loans, payments): loans (number, purpose, start) and their payments (number, accrual
    start and end, paid, interest), the accrual dates drawn near the start and the period's end."""
    months = draw(st.integers(1, 12))
    loans, payments = [], []
    for n in range(draw(st.integers(1, 6))):
        start = draw(st.one_of(days(), st.sampled_from(WINDOW)))
        purpose = draw(st.sampled_from(["operating", "operating", "other"]))
        number = f"P-{n}"
        loans.append((number, purpose, start))
        edges = [start, rules.add_months(start, months)]
        taken = set()
        for _ in range(draw(st.integers(0, 5))):
            near = draw(st.sampled_from(edges))
            first = near + dt.timedelta(days=draw(st.integers(-40, 40)))
            if first in taken:
                continue
            taken.add(first)
            last = first + dt.timedelta(days=draw(st.integers(1, 100)))
            paid = last + dt.timedelta(days=draw(st.sampled_from([0, 0, 5, 400])))
            payments.append((number, first, last, paid, draw(st.integers(1, 10**9))))
    return months, loans, payments


def _store(loans, payments) -> None:
    from huiqi.lending.models import InterestPayment, Loan
    from huiqi.registry.models import Bank

    bank = Bank.objects.create(code="PERIOD-B", name="测试银行")
    held = {}
    for number, purpose, start in loans:
        held[number] = Loan.objects.create(
            bank=bank, loan_no=number, borrower_id="91440300MA5FAKE001", borrower_name="某公司",
            borrower_kind="enterprise", purpose=purpose, guarantee="credit", first_loan=True, principal_fen=1,
            annual_rate="4.35", start_date=start, maturity_date=start + dt.timedelta(days=3650))
    InterestPayment.objects.bulk_create(
        InterestPayment(loan=held[number], accrual_start=first, accrual_end=last, paid_date=paid, interest_fen=fen)
        for number, first, last, paid, fen in payments)


def _counted(months, loans, payments) -> tuple[rules.Params, dict[tuple, tuple[Fraction, int]]]:
    """The parameters, and (``rules.counted_interest``, the interest) of every payment with days inside
    its loan's subsidy period (the window and the purpose as ``rules.eligibility`` asks), by (loan
    number, accrual start)."""
    params = rules.Params.from_mapping({**rules.DEFAULTS, "window_start": WINDOW[0].isoformat(),
                                        "window_end": WINDOW[1].isoformat(), "months": months})
    starts = {number: (purpose, start) for number, purpose, start in loans}
    counted = {}
    for number, first, last, paid, fen in payments:
        purpose, start = starts[number]
        if purpose != "operating" or not WINDOW[0] <= start <= WINDOW[1]:
            continue
        loan = rules.Loan("PERIOD-B", number, "91440300MA5FAKE001", "enterprise", None, purpose, start)
        fen_counted = rules.counted_interest(rules.Payment("PERIOD-B", number, first, last, paid, fen), loan,
                                             params, CUTOFF)
        if fen_counted:
            counted[(number, first)] = (fen_counted, fen)
    return params, counted


@pytest.mark.django_db
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledgers())
def test_the_ledger_reads_keep_the_payments_the_rules_count(ledger):
    """``ledger_rows`` (SQL) and the snapshot's cut (polars) keep exactly the payments whose counted
    interest is not zero; PostgreSQL's ``ledger_summed`` sums exactly those the rules count whole and
    sends exactly those they count in part."""
    months, loans, payments = ledger
    params, counted = _counted(months, loans, payments)
    period = selectors.FirstMonths(months=months, purpose="operating", started_from=WINDOW[0],
                                   started_to=WINDOW[1])
    with transaction.atomic():
        _store(loans, payments)
        read = selectors.ledger_rows(CUTOFF, period)
        assert sorted(read.payments.select("loan_no", "accrual_start").rows()) == sorted(counted)

        every = selectors.ledger_rows(CUTOFF)
        by_id = every.payments.join(every.loans.select(pl.col("id").alias("loan_id"), "bank_code", "loan_no"),
                                    on=["bank_code", "loan_no"]).select(pl.col("loan_id").alias("id"), "loan_no",
                                                                        "accrual_start", "accrual_end", "paid_date",
                                                                        "interest_fen")
        cut = rules_columnar.payments_that_can_count(every.loans, by_id, params)
        assert sorted(cut.select("loan_no", "accrual_start").rows()) == sorted(counted)

        if connection.vendor == "postgresql":
            summed = selectors.ledger_summed(CUTOFF, period)
            whole = {}
            for (number, _), (fen_counted, fen) in counted.items():
                if fen_counted == fen:
                    whole[number] = whole.get(number, 0) + fen
            assert {n: w for n, w in summed.loans.select("loan_no", selectors.WHOLE_FEN).rows()
                    if w is not None} == whole
            assert sorted(summed.payments.select("loan_no", "accrual_start").rows()) == sorted(
                k for k, (fen_counted, fen) in counted.items() if fen_counted != fen)
        transaction.set_rollback(True)
