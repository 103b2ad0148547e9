"""The worked example through the services and the database: registration and pre-check, the one live
application, clocks, the decision's cap across channels with maker and checker, tranches, repayment,
the funnel in SQL; bad input and illegal moves refused with nothing saved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.core.workdays import Calendar
from huiqi.fund import rules, selectors, services
from huiqi.fund.models import Application, Repayment, Tranche

from .conftest import WAN, D, apply, approve, walk_to_decision


def test_worked_example_outcomes(example):
    a = example.apps
    assert (a["F-01"].state, a["F-01"].approved_fen, a["F-01"].rate, a["F-01"].priority,
            a["F-01"].priority_reason) == ("disbursed", 2000 * WAN, Decimal("0.042"), True, "supplies_producer")
    assert (a["F-02"].state, a["F-02"].approved_fen, a["F-02"].capped, a["F-02"].rate) == (
        "disbursed", 1000 * WAN, True, Decimal("0.0385"))
    assert a["F-02"].events.filter(to_state="approved", note__contains="capped_at_enterprise_limit").exists()
    assert (a["F-03"].state, a["F-03"].reasons) == ("precheck_failed", ["size_large"])
    assert (a["F-04"].state, a["F-04"].rejection_reason) == ("rejected", "repayment_capacity_insufficient")
    assert (a["F-05"].state, a["F-05"].approved_fen, a["F-05"].maturity_date) == ("disbursed", 400 * WAN, D(2020, 9, 16))
    assert (a["F-06"].state, a["F-06"].reasons) == ("precheck_failed", ["credit_blacklisted"])
    assert (a["F-07"].state, a["F-07"].approved_fen, a["F-07"].rate) == ("approved", 300 * WAN, Decimal("0.042"))
    # Every change left its audit record.
    assert AuditEvent.objects.filter(action="fund.approve").count() == 4
    assert AuditEvent.objects.filter(action="fund.tranche").count() == 4


def test_funnel_at_may_15(example):
    rows = selectors.funnel(D(2020, 5, 15))
    assert [(r.scope, r.enterprises_applied, r.enterprises_decided, r.amount_decided_fen, r.enterprises_disbursed,
             r.amount_disbursed_fen) for r in rows] == [
        ("hti", 3, 2, 2300 * WAN, 1, 2000 * WAN),
        ("sgg", 4, 2, 1400 * WAN, 1, 400 * WAN),
        ("fund", 6, 3, 3700 * WAN, 2, 2400 * WAN),
    ]
    assert rules.funnel_line(D(2020, 5, 15), rows[-1]) == (
        "截至5月15日，累计收到6家企业的资金申请；累计决策为3家中小企业提供资金支持0.37亿元；"
        "已向2家中小企业发放支持资金0.24亿元。")
    # F-02's tranche of 05-20 pays E1 again: one enterprise, counted once.
    later = selectors.funnel(D(2020, 5, 20))[-1]
    assert (later.enterprises_disbursed, later.amount_disbursed_fen) == (2, 3400 * WAN)


def test_f01_clocks(example):
    clocks = {c.stage: c for c in selectors.clocks(example.apps["F-01"], D(2020, 6, 1))}
    assert (clocks["precheck"].due, clocks["precheck"].done, clocks["precheck"].days_late) == (
        D(2020, 2, 4), D(2020, 2, 4), 0)
    assert (clocks["due_diligence"].due, clocks["due_diligence"].days_late) == (D(2020, 2, 11), 5)
    assert (clocks["decision"].entered, clocks["decision"].due, clocks["decision"].days_late) == (
        D(2020, 2, 18), D(2020, 2, 20), 0)
    f05 = {c.stage: c for c in selectors.clocks(example.apps["F-05"], D(2020, 6, 1))}
    assert f05["precheck"].due == D(2020, 2, 28)


def test_one_live_application_across_channels(fund_world):
    f01 = apply(fund_world, "E1", "hti", D(2020, 1, 31), 2000)
    before = Application.objects.count()
    with pytest.raises(Conflict) as exc:
        apply(fund_world, "E1", "sgg", D(2020, 2, 12), 1500)
    assert exc.value.code == "fund.live_application_exists"
    assert f01.number in exc.value.zh and "高新投" in exc.value.zh and f01.number in exc.value.en
    assert Application.objects.count() == before


def test_headroom_exhausted_after_f02(example):
    later = apply(example.world, "E1", "hti", D(2020, 5, 25), 100)
    assert (later.state, later.reasons) == ("precheck_failed", ["enterprise_cap_exhausted"])


def test_f05_tranches_repayment_and_interest(example):
    world, f05 = example.world, example.apps["F-05"]
    maker = world.staff["sgg"][0]
    with pytest.raises(InvalidFields) as exc:
        services.add_tranche(maker, f05, day=D(2020, 4, 1), amount_fen=10 * WAN)
    assert exc.value.code == "fund.tranche_exceeds_approved"
    assert Tranche.objects.filter(application=f05).count() == 2
    services.record_repayment(maker, f05, day=D(2020, 4, 15), kind="principal", amount_fen=100 * WAN)
    f05.refresh_from_db()
    schedule = selectors.schedule_of(f05)
    first = schedule.periods[0]
    assert (first.start, first.end, first.due, first.balance_days_fen, first.interest_fen) == (
        D(2020, 3, 16), D(2020, 4, 16), D(2020, 4, 16), 101_250_000 * 100, 1_082_813)
    assert rules.overdue_days(schedule, D(2020, 4, 18)) == 2
    services.record_repayment(maker, f05, day=D(2020, 4, 20), kind="interest", amount_fen=1_082_813)
    f05.refresh_from_db()
    schedule = selectors.schedule_of(f05)
    assert (schedule.periods[0].paid_on, schedule.periods[0].days_late) == (D(2020, 4, 20), 4)
    with pytest.raises(ValidationFailed) as exc:
        services.record_repayment(maker, f05, day=D(2020, 4, 21), kind="principal", amount_fen=301 * WAN)
    assert exc.value.code == "fund.repayment_above_balance"
    assert Repayment.objects.filter(application=f05).count() == 2


def test_maker_and_checker_are_two_people_and_the_second_approval_loses(fund_world):
    app = apply(fund_world, "E6", "hti", D(2020, 4, 20), 300)
    walk_to_decision(fund_world, app, D(2020, 4, 22), D(2020, 5, 8))
    maker, checker = fund_world.staff["hti"]
    services.propose_decision(maker, app, outcome="approve", amount_fen=300 * WAN, term_months=12)
    with pytest.raises(Conflict) as exc:
        services.confirm_decision(maker, app, day=D(2020, 5, 14))
    assert exc.value.code == "fund.same_person"
    services.confirm_decision(checker, app, day=D(2020, 5, 14))
    with pytest.raises(Conflict) as exc:
        services.confirm_decision(checker, app, day=D(2020, 5, 14))
    assert exc.value.code == "fund.illegal_transition"
    assert Application.objects.get(pk=app.pk).approved_fen == 300 * WAN


def test_a_channel_handles_only_its_own(fund_world):
    app = apply(fund_world, "E6", "hti", D(2020, 4, 20), 300)
    other_channel = fund_world.staff["sgg"][0]
    with pytest.raises(PermissionDenied):
        services.advance(other_channel, app, "due_diligence", day=D(2020, 4, 21))
    with pytest.raises(InvalidFields) as exc:
        services.register(
            other_channel, services.ApplicationInput(uscc=fund_world.ent["E5"], channel="hti", requested_fen=WAN,
                                                     term_months=6, received_date=D(2020, 4, 20), impact="x"))
    assert exc.value.code == "fund.channel_not_yours"
    assert list(selectors.applications_for(other_channel)) == []
    assert list(selectors.applications_for(fund_world.staff["hti"][1])) == [app]
    assert list(selectors.applications_for(fund_world.bureau)) == [app]


def test_bad_input_names_every_field_and_saves_nothing(fund_world):
    with pytest.raises(InvalidFields) as exc:
        services.register(fund_world.staff["hti"][0], services.ApplicationInput(
            uscc="91440300XXXXXXXXXX", channel="abc", requested_fen=0, term_months=13,
            received_date=D(1999, 1, 1), impact=""))
    fields = [e.field for e in exc.value.errors]
    assert fields == ["uscc", "channel", "amount", "term_months", "received_date"]
    assert Application.objects.count() == 0


def test_illegal_transitions_are_refused(fund_world):
    app = apply(fund_world, "E6", "hti", D(2020, 4, 20), 300)
    maker = fund_world.staff["hti"][0]
    with pytest.raises(Conflict) as exc:
        services.advance(maker, app, "decision", day=D(2020, 4, 21))
    assert exc.value.code == "fund.illegal_transition"
    with pytest.raises(Conflict):
        services.sign_contract(maker, app, day=D(2020, 4, 21))
    assert Application.objects.get(pk=app.pk).state == "prechecked"


def test_transfer_links_both_and_restarts_the_clock(fund_world):
    app = apply(fund_world, "E1", "hti", D(2020, 4, 20), 300)
    # The enterprise itself asks to move to the other channel.
    new = services.transfer(fund_world.enterprise_user, app, channel="sgg", received_date=D(2020, 4, 24))
    app.refresh_from_db()
    assert (app.state, app.withdrawal_reason) == ("withdrawn", "transferred_to_other_channel")
    assert (new.channel, new.transferred_from, new.received_date, new.state) == ("sgg", app, D(2020, 4, 24),
                                                                                  "prechecked")


def test_pause_moves_the_due_day(fund_world):
    app = apply(fund_world, "E6", "hti", D(2020, 3, 2), 300)
    maker = fund_world.staff["hti"][0]
    services.advance(maker, app, "due_diligence", day=D(2020, 3, 2))
    services.pause(maker, app, day=D(2020, 3, 6), note="补充2019年审计报告")
    ageing = dict((a.pk, c) for a, c in selectors.ageing(maker, D(2020, 3, 11)))
    assert ageing[app.pk].due == D(2020, 3, 19) and ageing[app.pk].paused
    services.resume(maker, app, day=D(2020, 3, 10))
    (clock,) = [c for c in selectors.clocks(app, D(2020, 3, 20)) if c.stage == "due_diligence"]
    assert (clock.due, clock.days_late) == (D(2020, 3, 18), 2)


def test_ownership_unknown_waits_and_reruns(fund_world):
    from huiqi.registry import services as registry

    from .conftest import registry_enterprise

    e6 = registry_enterprise(fund_world.ent["E6"])
    registry.set_ownership(None, e6, "unknown")
    app = apply(fund_world, "E6", "hti", D(2020, 3, 2), 300)
    assert (app.state, app.reasons) == ("received", ["ownership_unknown"])
    # A figure written past the registry's services (nothing announces it): the channel re-runs by hand.
    type(e6).objects.filter(pk=e6.pk).update(ownership="private")
    app = services.rerun_precheck(fund_world.staff["hti"][0], app, day=D(2020, 3, 3))
    assert (app.state, app.reasons) == ("prechecked", [])
    # Through the registry's service the re-run is automatic.
    e5 = registry_enterprise(fund_world.ent["E5"])
    registry.set_ownership(None, e5, "unknown")
    other = apply(fund_world, "E5", "sgg", D(2020, 3, 2), 300)
    assert (other.state, other.reasons) == ("received", ["ownership_unknown"])
    registry.set_ownership(None, e5, "private")
    other.refresh_from_db()
    assert (other.state, other.reasons) == ("prechecked", [])


def test_priority_by_hand_shortens_the_open_stage(fund_world):
    app = apply(fund_world, "E6", "hti", D(2020, 3, 2), 300)
    services.advance(fund_world.staff["hti"][0], app, "due_diligence", day=D(2020, 3, 2))
    with pytest.raises(InvalidFields):
        services.set_priority(fund_world.bureau, app, "transport_or_sale", "")
    services.set_priority(fund_world.bureau, app, "transport_or_sale", "承运口罩原料")
    stage = app.stages.get(stage="due_diligence")
    assert (stage.sla_days, stage.due) == (5, Calendar.load().add_working_days(D(2020, 3, 2), 5))


def test_priority_follows_the_supplies_directory_on_the_received_date(fund_world):
    """Priority is set at registration when the enterprise is an active producer in the directory *on the
    received date*: not before it is listed, not while suspended, not after it is removed; the key-enterprise
    list gives it too."""
    from huiqi.registry.models import Enterprise
    from huiqi.supplies import services as supplies

    bureau = fund_world.bureau
    producer = supplies.list_producer(bureau, fund_world.ent["E6"], D(2020, 2, 10))
    supplies.suspend(bureau, producer, D(2020, 3, 1), "停产整改")
    supplies.resume(bureau, producer, D(2020, 3, 9))
    supplies.update_producer(bureau, producer, active_from=D(2020, 2, 10), active_to=D(2020, 4, 30),
                             converted=False, contact_name="", contact_phone="", removal_reason="不再生产防疫物资")

    def priority(received):
        app = apply(fund_world, "E6", "hti", received, 300)
        reason = (app.priority, app.priority_reason)
        services.withdraw(fund_world.staff["hti"][0], app, day=received)
        return reason

    assert priority(D(2020, 2, 7)) == (False, "")           # before it was listed
    assert priority(D(2020, 2, 10)) == (True, "supplies_producer")
    assert priority(D(2020, 3, 2)) == (False, "")            # suspended 03-01..03-08
    assert priority(D(2020, 3, 9)) == (True, "supplies_producer")
    assert priority(D(2020, 4, 30)) == (True, "supplies_producer")  # its last listed day
    assert priority(D(2020, 5, 6)) == (False, "")            # removed
    Enterprise.objects.filter(uscc=fund_world.ent["E6"]).update(is_key_enterprise=True)
    assert priority(D(2020, 5, 7)) == (True, "key_enterprise")
