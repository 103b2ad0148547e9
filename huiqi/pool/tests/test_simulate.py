"""Issue 18.9: `huiqi pool simulate [--params FILE.json] --out DIR` exactly as the spec's last section says,
on the worked example loaded through the real ledger paths."""

import csv
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

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
