"""Registration (入库) set-based: ``rules_columnar.registration`` and ``services.register_loans`` give every loan
the reason, ratio, cap and row that the per-loan rules (``rules.screen``, ``rules.loan_ratio``) give it, on
random loans: kinds by date, sizes, the principal limit, excluded industries, individual businesses and owners
around the widening date, banks suspended and exited, and the table changing between registration days."""

import dataclasses
import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huiqi.lending.rules import RegistryEntry
from huiqi.pool import rules, rules_columnar

D = dt.date
INDUSTRIES = ("F52", "K70", "K702", "C39")
USCCS = [f"9144030000000000{i:02d}" for i in range(8)]
PEOPLE = [f"4403011990010100{i:02d}" for i in range(4)]

days = st.dates(D(2019, 6, 1), D(2020, 12, 31))
ratios = st.decimals(min_value=0, max_value=1, places=2)
entries = st.one_of(st.none(), st.builds(
    RegistryEntry, st.sampled_from(["enterprise", "individual_business"]),
    st.sampled_from(["large", "medium", "small", "micro", "unknown"]), st.just(""),
    st.sampled_from(("", *INDUSTRIES, "k701"))))


@st.composite
def tables(draw):
    """A table of the pool: the three ratios under their caps, the limit, the widening date, excluded codes
    and the bureau's rows."""
    cap_normal, cap_window = draw(ratios), draw(ratios)
    rows = draw(st.lists(st.fixed_dictionaries({
        "name": st.sampled_from(["科技贷", "x", "首贷加码"]), "condition": st.sampled_from(list(rules.CONDITIONS)),
        "ratio": ratios.map(str), "start": st.one_of(st.just(""), days.map(D.isoformat)),
        "end": st.one_of(st.just(""), days.map(D.isoformat))}), max_size=3))
    rows = [r for r in rows if not (r["start"] and r["end"] and r["end"] < r["start"])]
    window_start = draw(days)
    return rules.Params.defaults().with_overrides({
        "cap_normal": str(cap_normal), "cap_window": str(cap_window),
        "base_ratio": str(min(draw(ratios), cap_normal)), "priority_ratio": str(min(draw(ratios), cap_normal)),
        "window_ratio": str(min(draw(ratios), cap_window)),
        "window_start": window_start.isoformat(),
        "window_end": max(window_start, draw(days)).isoformat(),
        "widened_from": draw(days).isoformat(),
        "max_principal": str(draw(st.integers(1, 5_000_000))),
        "excluded_industries": draw(st.lists(st.sampled_from(["K70", "C", "f52", "Z"]), max_size=2, unique=True)),
        "extra_rows": rows,
    })


@st.composite
def loans(draw):
    kind = draw(st.sampled_from(["enterprise", "individual_business", "business_owner"]))
    borrower = draw(st.sampled_from(PEOPLE if kind == "business_owner" else USCCS))
    owner_of = draw(st.one_of(st.none(), st.sampled_from(USCCS))) if kind == "business_owner" else None
    start = draw(days)
    return rules.Loan(draw(st.sampled_from(["B1", "B2"])), "", borrower, kind, owner_of,
                      draw(st.sampled_from(["credit", "guaranteed", "mortgage", "pledge"])), draw(st.booleans()),
                      draw(st.integers(1, 600_000_000)), start,
                      start + dt.timedelta(days=draw(st.integers(0, 60))))


def _frame(loans, registry, onboarded):
    def entry(uscc, field):
        e = registry.get(uscc) if uscc else None
        return getattr(e, field) if e else None

    return pl.DataFrame([{
        "loan_id": i, "borrower_kind": x.borrower_kind, "guarantee": x.guarantee, "first_loan": x.first_loan,
        "principal_fen": x.principal_fen, "start_date": x.start_date, "registered_date": x.registered_date,
        "onboarded": onboarded[i], "b_kind": entry(x.borrower_id, "kind"), "b_size": entry(x.borrower_id, "size_class"),
        "b_industry": entry(x.borrower_id, "industry"), "o_kind": entry(x.owner_of, "kind"),
        "o_size": entry(x.owner_of, "size_class"), "o_industry": entry(x.owner_of, "industry"),
    } for i, x in enumerate(loans)], schema=rules_columnar.REGISTRATION_INPUT)


@settings(max_examples=60, deadline=None)
@given(st.lists(loans(), min_size=1, max_size=25), st.dictionaries(st.sampled_from(USCCS), entries.filter(bool)),
       tables(), tables(), days, st.data())
def test_set_based_registration_agrees_with_the_rules_loan_by_loan(batch, registry, before, after, changed, data):
    onboarded = [data.draw(st.booleans()) for _ in batch]
    table_on = {x.registered_date: before if x.registered_date < changed else after for x in batch}
    out = rules_columnar.registration(_frame(batch, registry, onboarded), table_on).sort("loan_id")
    assert out.height == len(batch)
    for i, (x, got) in enumerate(zip(batch, out.iter_rows(named=True))):
        params = table_on[x.registered_date]
        pricing = rules.loan_ratio(x, params)
        expected = (rules.screen(x, registry, onboarded[i], params), pricing.ratio, pricing.cap, pricing.row)
        assert (got["reason"], Decimal(got["ratio_e4"]) / 10_000, Decimal(got["cap_e4"]) / 10_000,
                got["row"]) == expected, (x, params)


def test_the_ratio_is_written_as_the_database_keeps_it():
    frame = pl.DataFrame({"r": [0, 5, 3000, 8000, 10_000, 1234]})
    assert frame.select(rules_columnar.e4_text("r"))["r"].to_list() == [
        "0.0000", "0.0005", "0.3000", "0.8000", "1.0000", "0.1234"]


# --- through the database ------------------------------------------------------------------------------


class _Undo(Exception):
    """Rolls an example's rows back."""


@pytest.mark.django_db
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(loans(), min_size=1, max_size=12), st.dictionaries(st.sampled_from(USCCS), entries.filter(bool)),
       tables(), days, st.lists(st.tuples(st.sampled_from(["suspended", "reinstated", "exited"]), days), max_size=3),
       st.integers(1, 12))
def test_register_loans_agrees_with_the_rules_and_registers_once(batch, registry, later, changed, events, first):
    from django.db import transaction

    from huiqi.core import params
    from huiqi.lending.models import Loan as LedgerLoan
    from huiqi.pool import selectors, services
    from huiqi.pool.apps import PARAMS_KEY
    from huiqi.pool.models import BankEvent, Registration
    from huiqi.registry.models import Bank, District, Enterprise, Industry

    try:
        with transaction.atomic():
            district = District.objects.first()
            for code in INDUSTRIES + ("K701",):
                Industry.objects.get_or_create(code=code, defaults={"name": code, "level": "group", "section": code[0]})
            for uscc, e in registry.items():
                Enterprise.objects.create(uscc=uscc, name=uscc, kind=e.kind, size_class=e.size_class,
                                          district=district, industry_id=(e.industry or "F52").upper())
            registry = selectors.registry_for(registry)  # as stored (an empty industry is stored as F52)
            b1 = Bank.objects.create(code="B1", name="一", signed_date=D(2019, 1, 1), onboarded_date=D(2019, 8, 1))
            b2 = Bank.objects.create(code="B2", name="二", signed_date=D(2019, 1, 1), onboarded_date=D(2020, 3, 1))
            for kind, on in events:
                BankEvent.objects.get_or_create(bank=b2, kind=kind, on=on)
            params.set_value(None, PARAMS_KEY, "pool", later.as_mapping(), changed, today=changed)
            banks = {"B1": b1, "B2": b2}
            made = []
            for i, x in enumerate(batch):
                made.append(LedgerLoan(
                    bank=banks[x.bank_code], loan_no=f"L{i}", borrower_id=x.borrower_id, borrower_name="借款人",
                    borrower_kind=x.borrower_kind, owner_of=x.owner_of or "", purpose="operating",
                    guarantee=x.guarantee, first_loan=x.first_loan, principal_fen=x.principal_fen,
                    annual_rate=Decimal("4.35"), start_date=x.start_date,
                    maturity_date=x.start_date + dt.timedelta(days=365), registered_date=x.registered_date))
            # Registered in two runs: the second registers only what the first had not seen.
            LedgerLoan.objects.bulk_create(made[:first])
            assert services.register_loans()["registered"] == min(first, len(batch))
            LedgerLoan.objects.bulk_create(made[first:])
            assert services.register_loans()["registered"] == max(len(batch) - first, 0)
            assert services.register_loans() == {"registered": 0, "covered": 0}
            days = selectors.BankDays()
            for i, x in enumerate(batch):
                reg = Registration.objects.get(loan__loan_no=f"L{i}")
                p = selectors.params_on(x.registered_date)
                pricing = rules.loan_ratio(x, p)
                reason = rules.screen(x, registry, days.onboarded(x.bank_code, x.registered_date), p)
                assert (reg.reason or None, reg.ratio, reg.cap, reg.row, reg.registered_date) == (
                    reason, pricing.ratio, pricing.cap, pricing.row, x.registered_date), x
            raise _Undo
    except _Undo:
        pass


# --- the simulation of every claim, set-based -------------------------------------------------------------


@st.composite
def npls(draw, loans):
    out = []
    for x in loans:
        outstanding = draw(st.integers(1, 10**10))
        out.append(rules.Npl(x.bank_code, x.loan_no, draw(days), outstanding, draw(st.integers(0, outstanding))))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(loans(), min_size=1, max_size=25), st.dictionaries(st.sampled_from(USCCS), entries.filter(bool)),
       tables(), tables(), st.integers(0, 10**11), st.booleans(), st.data())
def test_set_based_simulation_agrees_with_the_rules(batch, registry, at_registration, today, balance, what_if, data):
    batch = [dataclasses.replace(x, loan_no=f"N{i:02d}", registered_date=data.draw(
        st.one_of(st.none(), st.just(x.registered_date)))) for i, x in enumerate(batch)]
    found = data.draw(npls(batch))
    onboarded = {x.key: data.draw(st.booleans()) for x in batch}
    fixed = {x.key: rules.loan_ratio(x, at_registration) for x in batch
             if x.registered_date is not None and data.draw(st.booleans())}
    tables_ = {x.registered_date: at_registration for x in batch if x.registered_date is not None}
    pricing = None if what_if else {x.key: fixed.get(x.key) or rules.loan_ratio(x, at_registration)
                                    for x in batch if x.registered_date is not None}
    expected, left = rules.simulate({x.key: x for x in batch}, found, registry, onboarded, today, balance, pricing)

    frame = _frame(batch, registry, [onboarded[x.key] for x in batch]).with_columns(
        pl.Series("bank_code", [x.bank_code for x in batch]), pl.Series("loan_no", [x.loan_no for x in batch]),
        pl.Series("npl_date", [n.npl_date for n in found], dtype=pl.Date),
        pl.Series("loss_fen", [n.loss_fen for n in found], dtype=pl.Int64),
        pl.Series("fixed_e4", [int(fixed[x.key].ratio * 10_000) if x.key in fixed else None for x in batch],
                  dtype=pl.Int64)).sort(["npl_date", "bank_code", "loan_no"])
    got, got_left = rules_columnar.simulate(frame.select(list(rules_columnar.CLAIM_INPUT)), today, balance,
                                            None if what_if else tables_)
    assert got_left == left
    assert [(r["loan_no"], r["reason"], r["loss_fen"], Decimal(r["ratio_e4"]) / 10_000, r["compensation_fen"],
             r["paid_fen"], r["owed_fen"]) for r in got.iter_rows(named=True)] == [
        (e.loan_no, e.reason, e.loss_fen, e.ratio, e.compensation_fen, e.paid_fen, e.owed_fen) for e in expected]
