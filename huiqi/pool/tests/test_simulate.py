"""Issue 18.9: `huiqi pool simulate [--params FILE.json] --out DIR` exactly as the spec's last section says,
on the worked example loaded through the real ledger paths."""

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huiqi.core import clock, params
from huiqi.pool import services

pytestmark = pytest.mark.django_db


def _read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_the_worked_example_headless(pool_example, tmp_path, capsys):
    overrides = tmp_path / "what-if.json"
    overrides.write_text(json.dumps({"pool_size": "700000.00"}), encoding="utf-8")
    call_command("pool", "simulate", "--params", str(overrides), "--out", str(tmp_path / "out"))
    rows = _read(tmp_path / "out" / "claims.csv")
    assert rows == [
        ["bank_code", "loan_no", "eligible", "reason", "loss", "ratio", "compensation", "paid", "owed"],
        ["B1", "1", "Y", "", "900000.00", "0.3", "270000.00", "270000.00", "0.00"],
        ["B1", "2", "Y", "", "333333.33", "0.5", "166666.67", "166666.67", "0.00"],
        ["B1", "3", "Y", "", "500000.00", "0.8", "400000.00", "263333.33", "136666.67"],
        ["B1", "4", "N", "borrower_kind_not_covered_yet", "0.00", "0", "0.00", "0.00", "0.00"],
        ["B1", "5", "Y", "", "150000.00", "0.8", "120000.00", "0.00", "120000.00"],
        ["B2", "6", "N", "borrower_large", "0.00", "0", "0.00", "0.00", "0.00"],
        ["B3", "7", "N", "bank_not_onboarded", "0.00", "0", "0.00", "0.00", "0.00"],
    ]
    printed = capsys.readouterr().out
    assert "700000.00" in printed and "256666.67" in printed  # paid, and owed on loans 3 and 5
    with pytest.raises(CommandError):
        call_command("pool", "simulate", "--params", str(tmp_path / "missing.json"), "--out", str(tmp_path / "x"))


def test_ratios_are_the_table_in_force_on_registration_unless_a_what_if_changes_it(pool_example, users):
    # The bureau lowers the window ratio from today: loans registered in 2020 keep the table of their day.
    current = params.value("pool.params")
    params.set_value(users["bureau"], "pool.params", "pool", {**current, "window_ratio": "0.60"}, clock.today())
    lines = {x.loan_no: x for x in services.simulate().lines}
    assert lines["3"].ratio == Decimal("0.8")
    # A what-if of the table prices every loan as if registered under it.
    lines = {x.loan_no: x for x in services.simulate({"window_ratio": "0.70"}).lines}
    assert lines["3"].ratio == Decimal("0.7") and lines["3"].compensation_fen == 35_000_000


def test_a_bad_override_names_every_field(pool_example, tmp_path):
    overrides = tmp_path / "bad.json"
    overrides.write_text(json.dumps({"pool_size": "many", "base_ratio": "2", "nonsense": 1}), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("pool", "simulate", "--params", str(overrides), "--out", str(tmp_path / "x"))
    message = str(caught.value)
    assert "资金池规模" in message and "基础补偿比例" in message and "nonsense" in message
    assert not (tmp_path / "x").exists()


# --- a simulation and a recorded run of the same claims give the same numbers ---------------------------


class _Undo(Exception):
    """Rolls an example's rows back."""


npl_amounts = st.tuples(st.integers(1, 100_000_000), st.integers(0, 100)).map(
    lambda t: (t[0], t[0] * t[1] // 100))  # outstanding within the principal, recovered a share of it


@pytest.fixture
def staff(pool_example):
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Bank

    def mk(name, role, **kw):
        return create_user(None, username=name, password="x-Long-enough-9", role=role, check_password=False, **kw)

    out = {code: mk(code.lower(), "bank", bank=Bank.objects.get(code=code)) for code in ("B1", "B2", "B3")}
    out.update(maker=mk("maker", "bureau"), checker=mk("checker", "bureau"))
    stored = params.value("pool.params", on=dt.date(2020, 9, 1))
    params.set_value(out["maker"], "pool.params", "pool", {**stored, "claim_window_days": 365}, dt.date(2020, 9, 1),
                     today=dt.date(2020, 9, 1))
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.integers(0, 150_000_000), st.lists(st.tuples(st.dates(dt.date(2020, 9, 1), dt.date(2020, 12, 31)),
                                                       npl_amounts), min_size=7, max_size=7))
def test_a_simulation_and_a_recorded_run_of_the_same_claims_give_the_same_numbers(staff, pool_size, npls):
    """Every NPL simulated, then the same claims filed by their banks, reviewed (approved in full when eligible,
    else denied with the reason), approved by another person and paid, in the simulation's order: each claim's
    reason, loss, ratio, compensation, paid and owed are the same, and so is what the pool has left."""
    from django.db import transaction

    from huiqi.lending.models import NonPerformingLoan
    from huiqi.pool import selectors
    from huiqi.pool.models import Claim

    try:
        with transaction.atomic(), clock.fixed(dt.date(2021, 1, 15)):
            for (npl_date, (outstanding, recovered)), npl in zip(npls, NonPerformingLoan.objects.order_by("id")):
                npl.npl_date, npl.outstanding_principal_fen, npl.recovered_fen = npl_date, outstanding, recovered
                npl.save()
            simulated = services.simulate({"pool_size": f"{pool_size // 100}.{pool_size % 100:02d}"})
            if pool_size:
                services.top_up(staff["maker"], pool_size)
            for line in simulated.lines:  # in the simulation's order: (npl_date, bank, loan)
                claim = services.file_claim(staff[line.bank_code], services.ClaimInput(line.bank_code, line.loan_no))
                if claim.reason:
                    claim = services.review(staff["maker"], claim, "deny", reason=claim.reason)
                else:
                    claim = services.review(staff["maker"], claim, "approve")
                services.decide(staff["checker"], claim, True)
            recorded = {c.loan.loan_no: c for c in Claim.objects.select_related("loan")}
            for line in simulated.lines:
                c = recorded[line.loan_no]
                assert (c.reason or None, c.loss_fen if not c.reason else 0, c.ratio if not c.reason else 0,
                        c.compensation_fen, c.paid_fen, c.owed_fen) == (
                    line.reason, line.loss_fen, line.ratio, line.compensation_fen, line.paid_fen, line.owed_fen), line
                assert c.status == ("approved" if line.reason is None else "denied")
            assert selectors.balance_fen() == simulated.left_fen
            assert sum(c.paid_fen for c in recorded.values()) == simulated.paid_fen <= pool_size
            raise _Undo
    except _Undo:
        pass
