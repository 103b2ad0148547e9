"""`huiqi fund funnel` and `huiqi fund schedule` write the spec's files; `huiqi fund rebuild-funnel` makes the
funnel's roll-up again."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from huiqi.fund import services

from .conftest import WAN, D


def test_funnel_command(example, tmp_path, capsys):
    call_command("fund", "funnel", "--as-of", "2020-05-15", "--out", str(tmp_path))
    assert (tmp_path / "funnel.csv").read_text(encoding="utf-8") == (
        "scope,enterprises_applied,enterprises_decided,amount_decided,enterprises_disbursed,amount_disbursed\n"
        "hti,3,2,23000000.00,1,20000000.00\n"
        "sgg,4,2,14000000.00,1,4000000.00\n"
        "fund,6,3,37000000.00,2,24000000.00\n")
    assert ("截至5月15日，累计收到6家企业的资金申请；累计决策为3家中小企业提供资金支持0.37亿元；"
            "已向2家中小企业发放支持资金0.24亿元。") in capsys.readouterr().out


def test_rebuild_funnel_command(example, tmp_path):
    from huiqi.fund import selectors
    from huiqi.fund.models import FunnelDay

    kept = selectors.funnel_groups(D(2020, 5, 15))
    FunnelDay.objects.all().delete()
    assert selectors.funnel(D(2020, 5, 15))[-1].enterprises_applied == 0
    call_command("fund", "rebuild-funnel", stdout=io.StringIO())
    assert selectors.funnel_groups(D(2020, 5, 15)) == kept
    assert selectors.funnel(D(2020, 5, 15))[-1].amount_decided_fen == 3700 * WAN


def test_schedule_command(example, tmp_path):
    f05 = example.apps["F-05"]
    maker = example.world.staff["sgg"][0]
    services.record_repayment(maker, f05, day=D(2020, 4, 15), kind="principal", amount_fen=100 * WAN)
    services.record_repayment(maker, f05, day=D(2020, 4, 20), kind="interest", amount_fen=1_082_813)
    call_command("fund", "schedule", f05.number, "--out", str(tmp_path))
    lines = (tmp_path / "schedule.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "period_start,period_end,due_date,balance_days,interest,paid_date,days_late"
    assert lines[1] == "2020-03-16,2020-04-16,2020-04-16,101250000.00,10828.13,2020-04-20,4"
    assert len(lines) == 7 and lines[-1].startswith("2020-08-16,2020-09-16,2020-09-16,")


def test_bad_arguments(db, tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("fund", "funnel", "--as-of", "2020-13-01", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="NOPE-1"):
        call_command("fund", "schedule", "NOPE-1", "--out", str(tmp_path))
