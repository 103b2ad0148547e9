"""Every write of the stable-development fund: one function per action, each checks permission and state,
writes in one transaction and leaves an audit record (who, when, before, after). Deadlines are stored on
the working-day calendar as it stands when the stage is entered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role, role_of
from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, DomainError, InvalidFields, PermissionDenied
from huiqi.core.headless import write_csv
from huiqi.core.i18n import stored
from huiqi.core.identifiers import validate_uscc
from huiqi.core.permissions import require
from huiqi.core.workdays import Calendar
from huiqi.registry import selectors as registry
from huiqi.supplies import selectors as supplies

from . import rules, selectors
from .models import Application, Pause, Repayment, StageClock, StageEvent, Tranche


@dataclass(frozen=True)
class ApplicationInput:
    """What a channel (page, file, API) or an enterprise online gives to register an application."""

    uscc: str
    channel: str
    requested_fen: int
    term_months: int
    received_date: dt.date
    impact: str
    purpose: str = ""
    source: str = Application.Source.PAGE
    priority_reason: str = ""
    priority_note: str = ""
    upload: object = None  # the channel's registration file (a ``StatusUpload``) when sent by file


def _calendar() -> Calendar:
    return Calendar.load()


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _day(day, application: Application | None = None, field: str = "day") -> dt.date:
    """The action's business day (today when omitted), inside 2000–2100 and not before the receipt."""
    day = day or clock.today()
    errors = rules.check_day(field, day, _("业务日期"))
    if errors:
        raise errors[0]
    if application is not None and day < application.received_date:
        raise rules.bad(field, "before_received", _("日期 %(given)s 早于受理日期 %(received)s"), day, given=day,
                        received=application.received_date)
    return day


def _event(actor, application: Application, day, from_state: str, to_state: str, note: str = "") -> None:
    StageEvent.objects.create(application=application, day=day, by=actor if getattr(actor, "pk", None) else None,
                              from_state=from_state, to_state=to_state, note=note[:500])


def _open_stage(application: Application, stage: str, day: dt.date, p: rules.Params, calendar=None) -> StageClock:
    sla = p.sla_days(stage, application.priority)
    due = (calendar or _calendar()).add_working_days(day, sla)
    return StageClock.objects.create(application=application, stage=stage, entered=day, sla_days=sla, due=due)


def _close_stage(application: Application, day: dt.date) -> None:
    stage = application.stages.filter(done__isnull=True).first()
    if stage is None:
        return
    if stage.paused_since is not None:
        _end_pause(stage, day)
    stage.done = max(day, stage.entered)
    stage.save(update_fields=["done"])


def _end_pause(stage: StageClock, day: dt.date, calendar=None) -> None:
    pause = stage.pauses.filter(end__isnull=True).first()
    if pause is not None:
        pause.end = max(day, pause.start)
        pause.save(update_fields=["end"])
        stage.due = (calendar or _calendar()).add_working_days(
            stage.due, (calendar or _calendar()).working_days_between(pause.start, pause.end))
    stage.paused_since = None
    stage.save(update_fields=["due", "paused_since"])


def _move(actor, application: Application, target: str, day: dt.date, note: str = "", *,
          open_stage: str | None = None, p: rules.Params | None = None) -> None:
    """One transition of the state table: the open stage closes, the next opens, the history records it."""
    rules.check_transition(application.state, target)
    before = application.state
    _close_stage(application, day)
    if open_stage:
        _open_stage(application, open_stage, day, p or selectors.params_on(day))
    application.state = target
    _event(actor, application, day, before, target, note)


# --- registration and pre-check -------------------------------------------------------------------------

def _number(channel: str) -> str:
    last = (Application.objects.filter(channel=channel).order_by("-number").values_list("number", flat=True)
            .first())
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{channel.upper()}-{n:06d}"


def _check_input(actor, data: ApplicationInput, p: rules.Params) -> str:
    errors: list[DomainError] = []
    uscc = data.uscc
    try:
        uscc = validate_uscc(data.uscc)
    except DomainError as exc:
        errors.append(exc)
    errors += rules.check_application(p, channel=data.channel, requested_fen=data.requested_fen,
                                      term_months=data.term_months, received=data.received_date)
    role = role_of(actor)
    channel = p.channel(data.channel)
    if role == Role.INSTITUTION and channel is not None and channel.institution != actor.institution.code:
        errors.append(rules.bad("channel", "channel_not_yours", _("只能登记本机构渠道（%(own)s）的申请，不能登记到 %(given)s"),
                                data.channel, given=data.channel, own=actor.institution.code))
    if data.priority_reason and data.priority_reason not in rules.PRIORITY_REASONS:
        errors.append(rules.bad("priority_reason", "unknown_priority_reason", _("优先支持理由 %(given)s 不存在"),
                                data.priority_reason, given=data.priority_reason))
    if errors:
        raise InvalidFields(errors)
    if role == Role.ENTERPRISE and not actor.enterprises.filter(uscc=uscc).exists():
        raise PermissionDenied("fund.not_your_enterprise", _("只能为本人关联的企业申请"))
    return uscc


def _refuse_live(uscc: str, p: rules.Params, other: Application) -> Conflict:
    channel = p.channel(other.channel)
    return Conflict("fund.live_application_exists",
                    _("该企业已有在办申请 %(number)s（渠道：%(channel)s），同一企业同一时间只能有一件在办申请"),
                    field="uscc", value=uscc, number=other.number, channel=channel.name if channel else other.channel)


def register(actor, data: ApplicationInput, *, transferred_from: Application | None = None,
             calendar: Calendar | None = None) -> Application:
    """Register an application at its channel and pre-check it on the registry as of the received date.
    Refused whole (``InvalidFields``) on bad input, and with ``live_application_exists`` while another
    application of the enterprise is live; nothing is saved then."""
    require(actor, "fund.register", allow_system=True)
    received = data.received_date if isinstance(data.received_date, dt.date) else None
    p = selectors.params_on(received if received and rules.EARLIEST <= received <= rules.LATEST else None)
    uscc = _check_input(actor, data, p)
    calendar = calendar or _calendar()
    try:
        with transaction.atomic():
            other = selectors.live_application(uscc)
            if other is not None and other != transferred_from:
                raise _refuse_live(uscc, p, other)
            facts = selectors.registry_facts(uscc, received)
            enterprise = selectors.enterprise_of(uscc)
            reasons = rules.precheck(facts, p, impact=data.impact,
                                     headroom_fen=selectors.headroom_fen(uscc, p.enterprise_cap_fen))
            state = rules.precheck_state(reasons)
            priority_reason = data.priority_reason
            if not priority_reason and supplies.is_active_producer(uscc, received):
                priority_reason = "supplies_producer"  # an active producer in the directory on the received day
            if not priority_reason and enterprise is not None and enterprise.is_key_enterprise:
                priority_reason = "key_enterprise"
            application = Application.objects.create(
                number=_number(data.channel), uscc=uscc, enterprise=enterprise, channel=data.channel,
                upload=data.upload,
                institution=registry.organisation("institution", p.channel(data.channel).institution),
                requested_fen=data.requested_fen, purpose=data.purpose.strip()[:300], term_months=data.term_months,
                received_date=received, impact=data.impact.strip(), source=data.source, state="received",
                reasons=reasons, priority=bool(priority_reason), priority_reason=priority_reason,
                priority_note=data.priority_note[:300], transferred_from=transferred_from,
                created_by=actor if getattr(actor, "pk", None) else None)
            _event(actor, application, received, "", "received")
            stage = _open_stage(application, "precheck", received, p, calendar)
            if state != "received":
                application.state = state
                _event(actor, application, received, "received", state, ",".join(reasons))
                if state == "precheck_failed":
                    stage.done = received
                    stage.save(update_fields=["done"])
                application.save(update_fields=["state"])
            refresh_funnel([uscc])
            audit.record(actor, "fund.register", application)
    except IntegrityError:
        # Two registrations of one enterprise at once: the database's one-live rule let one through.
        other = selectors.live_application(uscc)
        if other is None:
            raise
        raise _refuse_live(uscc, p, other) from None
    return application


def rerun_precheck(actor, application: Application, day: dt.date | None = None, *,
                   note: str = "") -> Application:
    """Run the pre-check again once the missing figure (ownership, size) is in the registry. The funnel's
    roll-up is left as it is: it counts applications by their received date, decision and tranches, never by
    the pre-check's outcome."""
    require(actor, "fund.handle", application, allow_system=True)
    with transaction.atomic():
        application = _locked(application)
        if application.state != "received":
            rules.check_transition(application.state, "prechecked")
        day = _day(day, application)
        p = selectors.params_on(application.received_date)
        before = audit.snapshot(application)
        reasons = rules.precheck(selectors.registry_facts(application.uscc, application.received_date), p,
                                 impact=application.impact,
                                 headroom_fen=selectors.headroom_fen(application.uscc, p.enterprise_cap_fen,
                                                                     excluding=application.pk))
        state = rules.precheck_state(reasons)
        application.reasons = reasons
        if state != "received":
            if state == "precheck_failed":
                _close_stage(application, day)
            application.state = state
            _event(actor, application, day, "received", state, ",".join(reasons))
        application.save()
        audit.record(actor, "fund.precheck", application, before=before, note=note)
    return application


def rerun_waiting_prechecks(usccs, *, by=None) -> list[Application]:
    """The registry changed these enterprises' ownership or size class (``enterprise_facts_changed``): each
    application of theirs that waits in ``received`` on such a figure (``rules.PENDING_REASONS``) is
    pre-checked again, in the registry write's transaction, on today's business day (its received date if
    later). Returns the applications re-run.

    It runs as the system (``actor=None``, which ``rerun_precheck`` allows), not as ``by``, the registry's
    writer: the bureau's registry clerk holds no channel's permission to handle an application, and the
    re-run is the rule's consequence of the new figure, not anyone's decision. The audit note names ``by``
    so the record still says whose registry write set it off."""
    usccs = sorted(set(usccs))
    waiting = []
    for start in range(0, len(usccs), 5000):
        received = Application.objects.filter(uscc__in=usccs[start:start + 5000], state="received").order_by("pk")
        waiting += [a for a in received if set(a.reasons) & rules.PENDING_REASONS]
    note = stored(_("企业名录补充了所有制性质或企业规模（%(by)s），自动重新预审"), by=audit.actor_label(by))
    return [rerun_precheck(None, a, max(clock.today(), a.received_date), note=note) for a in waiting]


# --- withdrawal, transfer, priority ---------------------------------------------------------------------

def withdraw(actor, application: Application, reason: str = "enterprise_request", *, day=None,
             note: str = "") -> Application:
    """Withdraw an application before approval (by the enterprise or its channel)."""
    require(actor, "fund.withdraw", application)
    if reason not in rules.WITHDRAWAL_REASONS:
        raise rules.bad("reason", "unknown_withdrawal_reason", _("撤回原因 %(given)s 不存在"), reason, given=reason)
    with transaction.atomic():
        application = _locked(application)
        day = _day(day, application)
        before = audit.snapshot(application)
        _move(actor, application, "withdrawn", day, note or reason)
        application.withdrawal_reason = reason
        application.save()
        audit.record(actor, "fund.withdraw", application, before=before, note=note)
    return application


def transfer(actor, application: Application, *, channel: str, received_date: dt.date,
             requested_fen: int | None = None, term_months: int | None = None, note: str = "") -> Application:
    """转渠道: withdraw the live application with ``transferred_to_other_channel`` and register a new one at
    the other channel with its own received date; the two stay linked. All or nothing."""
    require(actor, "fund.withdraw", application)
    if channel == application.channel:
        raise rules.bad("channel", "same_channel", _("申请已在渠道 %(given)s 办理，请选择另一渠道"), channel, given=channel)
    with transaction.atomic():
        old = withdraw(actor, application, "transferred_to_other_channel", day=received_date, note=note)
        data = ApplicationInput(
            uscc=old.uscc, channel=channel, requested_fen=requested_fen or old.requested_fen,
            term_months=term_months or old.term_months, received_date=received_date, impact=old.impact,
            purpose=old.purpose, source=old.source, priority_reason=old.priority_reason,
            priority_note=old.priority_note)
        # The new channel registers it even when the enterprise or the old channel asked.
        new = register(None, data, transferred_from=old)
        audit.record(actor, "fund.transfer", new, note=note)
    return new


def set_priority(actor, application: Application, reason: str, note: str) -> Application:
    """The bureau sets priority by hand, with a reason (transport or sale of key goods, other contribution);
    the open stage takes the priority time limit from its entry."""
    require(actor, "fund.set_priority", application)
    errors = []
    if reason not in rules.PRIORITY_REASONS:
        errors.append(rules.bad("priority_reason", "unknown_priority_reason", _("优先支持理由 %(given)s 不存在"),
                                reason, given=reason))
    if not (note or "").strip():
        errors.append(rules.bad("priority_note", "priority_note_required", _("手工设定优先支持须说明理由")))
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        application = _locked(application)
        before = audit.snapshot(application)
        application.priority, application.priority_reason, application.priority_note = True, reason, note.strip()
        application.save()
        stage = application.stages.filter(done__isnull=True).first()
        if stage is not None:
            p = selectors.params_on(stage.entered)
            sla = p.sla_days(stage.stage, True)
            if sla != stage.sla_days:
                calendar = _calendar()
                covered = sum(calendar.working_days_between(x.start, x.end) for x in stage.pauses.filter(end__isnull=False))
                stage.sla_days, stage.due = sla, calendar.add_working_days(stage.entered, sla + covered)
                stage.save(update_fields=["sla_days", "due"])
        audit.record(actor, "fund.priority", application, before=before, note=note)
    return application


# --- stages and pauses ----------------------------------------------------------------------------------

def advance(actor, application: Application, target: str, *, day=None, note: str = "") -> Application:
    """The channel moves the application on: ``due_diligence`` (pre-check accepted) or ``decision``
    (due diligence done). Other moves have their own services."""
    require(actor, "fund.handle", application)
    stage = {"due_diligence": "due_diligence", "decision": "decision"}.get(target)
    if stage is None:
        rules.check_transition(application.state, target)
        raise rules.bad("state", "not_a_stage_move", _("“%(given)s”不是办理环节的推进"), target, given=target)
    with transaction.atomic():
        application = _locked(application)
        day = _day(day, application)
        before = audit.snapshot(application)
        _move(actor, application, target, day, note, open_stage=stage)
        application.save()
        audit.record(actor, "fund.stage", application, before=before, note=note)
    return application


def pause(actor, application: Application, *, day=None, note: str) -> StageClock:
    """Stop the open stage's clock while the channel waits for the enterprise (what it waits for in ``note``)."""
    require(actor, "fund.handle", application)
    if not (note or "").strip():
        raise rules.bad("note", "pause_note_required", _("暂停计时须说明等待企业补充的内容"))
    with transaction.atomic():
        application = _locked(application)
        day = _day(day, application)
        stage = application.stages.filter(done__isnull=True).first()
        if stage is None or application.state not in rules.LIVE_STATES:
            raise Conflict("fund.nothing_to_pause", _("申请没有正在计时的环节"), field="state")
        if stage.paused_since is not None:
            raise Conflict("fund.already_paused", _("该环节已在 %(day)s 暂停计时"), field="state", day=stage.paused_since)
        Pause.objects.create(stage=stage, start=max(day, stage.entered), note=note.strip()[:300])
        stage.paused_since = max(day, stage.entered)
        stage.save(update_fields=["paused_since"])
        audit.record(actor, "fund.pause", application, note=note)
    return stage


def resume(actor, application: Application, *, day=None, note: str = "") -> StageClock:
    """The enterprise answered: the clock runs again, its due day moved by the working days paused."""
    require(actor, "fund.handle", application)
    with transaction.atomic():
        application = _locked(application)
        day = _day(day, application)
        stage = application.stages.filter(done__isnull=True, paused_since__isnull=False).first()
        if stage is None:
            raise Conflict("fund.not_paused", _("申请没有暂停计时的环节"), field="state")
        before = {"due": stage.due.isoformat()}
        _end_pause(stage, day)
        audit.record(actor, "fund.resume", application, before=before, after={"due": stage.due.isoformat()},
                     note=note)
    return stage


# --- decision (maker and checker) ----------------------------------------------------------------------

def propose_decision(actor, application: Application, *, outcome: str, amount_fen: int | None = None,
                     rate: Decimal | None = None, term_months: int | None = None, reason: str = "",
                     note: str = "") -> Application:
    """The channel's first person proposes: approve (amount, term, optionally a lower rate) or reject (a coded
    reason). Checked now against the cap and the scheme's rate; a second person approves it."""
    require(actor, "fund.decide", application)
    with transaction.atomic():
        application = _locked(application)
        if application.state != "decision":
            rules.check_transition(application.state, "approved")
        p = selectors.params_on(clock.today() if clock.today() >= application.received_date else None)
        before = audit.snapshot(application)
        if outcome == "approve":
            rules.decide(p, channel=application.channel, requested_fen=application.requested_fen,
                         proposed_fen=amount_fen, term_months=term_months, rate=rate,
                         headroom_fen=selectors.headroom_fen(application.uscc, p.enterprise_cap_fen,
                                                             excluding=application.pk))
            application.proposed_fen, application.proposed_rate = amount_fen, rate
            application.proposed_term_months, application.rejection_reason = term_months, ""
        elif outcome == "reject":
            errors = []
            if reason not in rules.REJECTION_REASONS:
                errors.append(rules.bad("reason", "unknown_rejection_reason",
                                        _("不批准原因 %(given)s 不存在"), reason, given=reason))
            elif reason == "other" and not note.strip():
                errors.append(rules.bad("note", "rejection_note_required", _("原因为“其他”时须填写说明")))
            if errors:
                raise InvalidFields(errors)
            application.proposed_fen = application.proposed_rate = application.proposed_term_months = None
            application.rejection_reason = reason
        else:
            raise rules.bad("outcome", "unknown_outcome", _("决策意见 %(given)s 须为 approve 或 reject"), outcome,
                            given=outcome)
        application.proposed_outcome, application.decision_note = outcome, note.strip()[:500]
        application.proposed_by = actor if getattr(actor, "pk", None) else None
        application.save()
        audit.record(actor, "fund.propose", application, before=before, note=note)
    return application


def confirm_decision(actor, application: Application, *, day=None, note: str = "") -> Application:
    """The second person at the channel approves the proposal. The enterprise's applications in both
    channels are locked, so two approvals at once cannot both take the same headroom; the second to
    arrive finds the application decided and is refused."""
    require(actor, "fund.decide", application)
    with transaction.atomic():
        # Lock every application of the enterprise (both channels): the cap is shared.
        uscc = Application.objects.values_list("uscc", flat=True).get(pk=application.pk)
        list(Application.objects.select_for_update().filter(uscc=uscc).order_by("pk").values_list("pk", flat=True))
        application = _locked(application)
        if application.state != "decision" or not application.proposed_outcome:
            if application.state == "decision":
                raise Conflict("fund.no_proposal", _("尚无决策意见，须先由经办人提出"), field="state")
            rules.check_transition(application.state, "approved")
        if application.proposed_by_id is not None and application.proposed_by_id == getattr(actor, "pk", None):
            raise Conflict("fund.same_person", _("决策意见须由另一位工作人员复核批准"), field="decided_by")
        day = _day(day, application)
        p = selectors.params_on(day)
        before = audit.snapshot(application)
        application.decided_on = day
        application.decided_by = actor if getattr(actor, "pk", None) else None
        if application.proposed_outcome == "approve":
            d = rules.decide(p, channel=application.channel, requested_fen=application.requested_fen,
                             proposed_fen=application.proposed_fen, term_months=application.proposed_term_months,
                             rate=application.proposed_rate,
                             headroom_fen=selectors.headroom_fen(uscc, p.enterprise_cap_fen, excluding=application.pk))
            application.approved_fen, application.capped, application.rate = d.approved_fen, d.capped, d.rate
            application.decision_term_months = application.proposed_term_months
            flag = "capped_at_enterprise_limit" if d.capped else ""
            _move(actor, application, "approved", day, " ".join(x for x in (flag, note) if x),
                  open_stage="contract", p=p)
            action = "fund.approve"
        else:
            _move(actor, application, "rejected", day, application.rejection_reason)
            action = "fund.reject"
        application.save()
        refresh_funnel([uscc])
        audit.record(actor, action, application, before=before, note=note)
    return application


# --- contract, disbursement, repayment ------------------------------------------------------------------

def sign_contract(actor, application: Application, *, day=None) -> Application:
    """The approved application's contract is signed: the first-disbursement clock starts."""
    require(actor, "fund.disburse", application)
    with transaction.atomic():
        application = _locked(application)
        day = _day(day, application)
        if application.decided_on and day < application.decided_on:
            raise rules.bad("day", "contract_before_decision", _("签约日期 %(given)s 早于决策日期 %(decided)s"), day,
                            given=day, decided=application.decided_on)
        before = audit.snapshot(application)
        _move(actor, application, "contracted", day, open_stage="first_disbursement")
        application.contract_date = day
        application.save()
        audit.record(actor, "fund.contract", application, before=before)
    return application


def add_tranche(actor, application: Application, *, day: dt.date, amount_fen: int) -> Tranche:
    """Pay out a tranche; Σ tranches never exceeds the approved amount (``tranche_exceeds_approved``). The
    first tranche fixes the maturity (first tranche date + term); the last makes it ``disbursed``."""
    require(actor, "fund.disburse", application)
    with transaction.atomic():
        application = _locked(application)
        # A disbursed application has nothing left to pay: its check below says so (tranche_exceeds_approved).
        if application.state not in ("contracted", "disbursing", "disbursed"):
            rules.check_transition(application.state, "disbursing")
        first = application.tranches.order_by("day").first()
        errors = rules.check_tranche(day=day, amount_fen=amount_fen, contract_date=application.contract_date,
                                     maturity_date=application.maturity_date,
                                     approved_fen=application.approved_fen - application.cancelled_fen,
                                     disbursed_fen=application.disbursed_fen)
        if not errors and first is not None and day < first.day:
            errors.append(rules.bad("date", "tranche_before_first", _("放款日期 %(given)s 早于首笔放款日期 %(first)s"),
                                    day, given=day, first=first.day))
        if errors:
            raise InvalidFields(errors)
        before = audit.snapshot(application)
        tranche = Tranche.objects.create(application=application, day=day, amount_fen=amount_fen,
                                         recorded_by=actor if getattr(actor, "pk", None) else None)
        application.disbursed_fen += amount_fen
        if first is None:
            application.maturity_date = rules.maturity(day, application.decision_term_months)
        full = application.disbursed_fen == application.approved_fen - application.cancelled_fen
        if application.state == "contracted":
            _move(actor, application, "disbursed" if full else "disbursing", day)
        elif full:
            _move(actor, application, "disbursed", day)
        application.save()
        refresh_funnel([application.uscc])
        audit.record(actor, "fund.tranche", application, before=before, note=rules.fen_text(amount_fen))
    return tranche


def cancel_rest(actor, application: Application, *, day=None, note: str = "") -> Application:
    """Cancel the undisbursed rest: it frees the enterprise's headroom and the application is ``disbursed``."""
    require(actor, "fund.disburse", application)
    with transaction.atomic():
        application = _locked(application)
        if application.state not in ("contracted", "disbursing"):
            rules.check_transition(application.state, "disbursed")
        day = _day(day, application)
        before = audit.snapshot(application)
        application.cancelled_fen = application.approved_fen - application.disbursed_fen
        application.cancelled_on = day
        _move(actor, application, "disbursed", day, note)
        application.save()
        refresh_funnel([application.uscc])
        audit.record(actor, "fund.cancel_rest", application, before=before, note=note)
    return application


def record_repayment(actor, application: Application, *, day: dt.date, kind: str, amount_fen: int) -> Repayment:
    """A repayment of principal (early or at maturity, never above the balance) or a payment of interest."""
    require(actor, "fund.disburse", application)
    errors = rules.check_day("date", day, _("还款日期"))
    if kind not in Repayment.Kind.values:
        errors.append(rules.bad("kind", "unknown_repayment_kind", _("还款类别 %(given)s 须为本金或利息"), kind, given=kind))
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        errors.append(rules.bad("amount", "amount_not_positive", _("还款金额 %(given)s 必须大于 0"), amount_fen,
                                given=rules.fen_text(amount_fen)))
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        application = _locked(application)
        if application.state not in ("disbursing", "disbursed"):
            raise Conflict("fund.nothing_lent", _("申请尚未放款，不能登记还款"), field="state")
        first = application.tranches.order_by("day").first()
        if day < first.day:
            raise rules.bad("date", "repayment_before_tranche", _("还款日期 %(given)s 早于首笔放款日期 %(first)s"), day,
                            given=day, first=first.day)
        if kind == Repayment.Kind.PRINCIPAL:
            repaid = sum(r.amount_fen for r in application.repayments.filter(kind=kind))
            balance = selectors.disbursed_by(application, day) - repaid
            if amount_fen > balance:
                raise rules.bad("amount", "repayment_above_balance",
                                _("还本金额 %(given)s 元超过 %(day)s 的贷款余额 %(balance)s 元"), amount_fen,
                                given=rules.fen_text(amount_fen), day=day, balance=rules.fen_text(balance))
        repayment = Repayment.objects.create(application=application, day=day, kind=kind, amount_fen=amount_fen,
                                             recorded_by=actor if getattr(actor, "pk", None) else None)
        audit.record(actor, "fund.repayment", repayment, note=f"{application.number} {kind}")
    return repayment


def extend(actor, application: Application, *, maturity_date: dt.date, note: str) -> Application:
    """展期: a later maturity, agreed by the channel; the schedule runs to it."""
    require(actor, "fund.disburse", application)
    with transaction.atomic():
        application = _locked(application)
        errors = rules.check_day("maturity_date", maturity_date, _("到期日"))
        if application.maturity_date is None:
            raise Conflict("fund.nothing_lent", _("申请尚未放款，不能登记还款"), field="state")
        if not errors and maturity_date <= application.maturity_date:
            errors.append(rules.bad("maturity_date", "extension_not_later", _("展期后到期日 %(given)s 须晚于原到期日 %(old)s"),
                                    maturity_date, given=maturity_date, old=application.maturity_date))
        if not (note or "").strip():
            errors.append(rules.bad("note", "extension_note_required", _("展期须说明理由")))
        if errors:
            raise InvalidFields(errors)
        before = audit.snapshot(application)
        application.maturity_date = maturity_date
        application.save()
        audit.record(actor, "fund.extend", application, before=before, note=note)
    return application


def close(actor, application: Application, *, day=None) -> Application:
    """结清: every scheduled amount is paid."""
    require(actor, "fund.disburse", application)
    with transaction.atomic():
        application = _locked(application)
        day = _day(day, application)
        if application.state == "disbursed":
            schedule = selectors.schedule_of(application)
            if schedule is not None and any(paid is None or paid > day for _due, paid in schedule.due_items()):
                raise Conflict("fund.not_repaid", _("尚有未还清的本金或利息，不能结清"), field="state")
        before = audit.snapshot(application)
        _move(actor, application, "closed", day)
        application.save()
        audit.record(actor, "fund.close", application, before=before)
    return application


# --- headless result files ------------------------------------------------------------------------------

FUNNEL_HEADER = ("scope", "enterprises_applied", "enterprises_decided", "amount_decided", "enterprises_disbursed",
                 "amount_disbursed")
SCHEDULE_HEADER = ("period_start", "period_end", "due_date", "balance_days", "interest", "paid_date", "days_late")


def write_funnel_csv(rows: list[rules.FunnelRow], out_dir) -> Path:
    """``funnel.csv`` as the spec's last section says: scopes hti, sgg, fund; amounts in 元, two decimals."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "funnel.csv"
    write_csv(path, FUNNEL_HEADER, [
        (r.scope, r.enterprises_applied, r.enterprises_decided, rules.fen_text(r.amount_decided_fen),
         r.enterprises_disbursed, rules.fen_text(r.amount_disbursed_fen)) for r in rows])
    return path


def write_schedule_csv(application: Application, out_dir) -> Path:
    """``schedule.csv`` of one application: each interest period, its balance-days (元·days), its interest
    (元), when it was paid and how many days late (blank while unpaid)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "schedule.csv"
    schedule = selectors.schedule_of(application)
    periods = schedule.periods if schedule is not None else []
    write_csv(path, SCHEDULE_HEADER, [
        (x.start.isoformat(), x.end.isoformat(), x.due.isoformat(), rules.fen_text(x.balance_days_fen),
         rules.fen_text(x.interest_fen), x.paid_on.isoformat() if x.paid_on else "",
         "" if x.days_late is None else x.days_late) for x in periods])
    return path


# --- the funnel's PDF -----------------------------------------------------------------------------------

def start_funnel_pdf(actor, on: dt.date):
    """Queue the funnel at ``on`` as a PDF, in the actor's language, in a background job (a CJK PDF takes
    seconds); the job reads the figures as the actor again. Returns the job."""
    from django.utils import translation

    from huiqi.core import jobs

    from . import report
    from .jobs import REPORT_KIND

    require(actor, "fund.report")
    errors = rules.check_day("on", on, _("截至日期"))
    if errors:
        raise errors[0]
    return jobs.enqueue(REPORT_KIND, {"on": on.isoformat(), "language": translation.get_language()}, user=actor,
                        title=f"{report.title_for(on)} PDF")


# --- the funnel's daily roll-up -------------------------------------------------------------------------

def _funnel_entries(usccs=None, *, models=None, enterprise_keys=None) -> dict[str, dict]:
    """Each enterprise's part of the roll-up from its applications and tranches now: {uscc: {(by, key,
    day): figures}} (every enterprise when ``usccs`` is None). ``models``/``enterprise_keys`` let a migration
    pass its historical tables."""
    app_model, tranche_model = models or (Application, Tranche)
    apps = app_model.objects.all() if usccs is None else app_model.objects.filter(uscc__in=list(usccs))
    rows = list(apps.values_list("id", "uscc", "channel", "received_date", "enterprise_id", "approved_fen",
                                 "decided_on", "cancelled_fen", "cancelled_on"))
    paid: dict[int, list] = {}
    tranches = tranche_model.objects.filter(application_id__in=[r[0] for r in rows]) if usccs is not None \
        else tranche_model.objects.all()
    for app_id, day, amount in tranches.values_list("application_id", "day", "amount_fen").iterator():
        paid.setdefault(app_id, []).append((day, amount))
    keys = (enterprise_keys or _enterprise_keys)({r[4] for r in rows if r[4] is not None})
    by_uscc: dict[str, list] = {}
    for app_id, uscc, channel, received, enterprise_id, approved, decided_on, cancelled, cancelled_on in rows:
        district, section = keys.get(enterprise_id, (None, None))
        facts = rules.FunnelFacts(
            uscc, channel, received, decided_on if approved is not None else None, approved or 0,
            ((cancelled_on, cancelled),) if cancelled and cancelled_on else (), tuple(paid.get(app_id, ())))
        by_uscc.setdefault(uscc, []).append(
            ({"channel": channel, "district": district or "-", "industry": section or "-", "fund": "*"}, facts))
    return {uscc: rules.funnel_entries(apps) for uscc, apps in by_uscc.items()}


def _enterprise_keys(ids) -> dict[int, tuple[str | None, str | None]]:
    """Each enterprise's district and industry section, the funnel's other two groupings."""
    out = {}
    ids = list(ids)
    for start in range(0, len(ids), 5000):
        out.update({pk: (district, section) for pk, district, section in registry.enterprises()
                    .filter(pk__in=ids[start:start + 5000]).values_list("pk", "district_id", "industry__section")})
    return out


_FUNNEL_UPSERT = """
INSERT INTO {table} (dimension, group_key, day, applied, decided, decided_fen, paid, paid_fen) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (dimension, group_key, day) DO UPDATE SET applied = {table}.applied + EXCLUDED.applied,
    decided = {table}.decided + EXCLUDED.decided, decided_fen = {table}.decided_fen + EXCLUDED.decided_fen,
    paid = {table}.paid + EXCLUDED.paid, paid_fen = {table}.paid_fen + EXCLUDED.paid_fen
"""


def refresh_funnel(usccs) -> None:
    """Replace the enterprises' parts of the funnel's roll-up by what their applications say now. Called
    inside the write's transaction by every service that moves the funnel; the enterprise's applications are
    locked first, so two writes of one enterprise take turns."""
    from django.db import connection

    from .models import FunnelDay, FunnelEntry

    usccs = sorted(set(usccs))
    with transaction.atomic():
        list(Application.objects.select_for_update().filter(uscc__in=usccs).order_by("pk").values_list("pk", flat=True))
        diff: dict[tuple, list[int]] = {}
        old = FunnelEntry.objects.filter(uscc__in=usccs)
        for by, key, day, *figures in old.values_list("dimension", "group_key", "day", *rules.FUNNEL_FIGURES):
            row = diff.setdefault((by, key, day), [0] * len(figures))
            for i, v in enumerate(figures):
                row[i] -= v
        entries = []
        for uscc, parts in _funnel_entries(usccs).items():
            for (by, key, day), figures in parts.items():
                entries.append(FunnelEntry(uscc=uscc, dimension=by, group_key=key, day=day, **dict(zip(rules.FUNNEL_FIGURES, figures))))
                row = diff.setdefault((by, key, day), [0] * len(figures))
                for i, v in enumerate(figures):
                    row[i] += v
        old.delete()
        FunnelEntry.objects.bulk_create(entries)
        changed = [(by, key, day, *figures) for (by, key, day), figures in diff.items() if any(figures)]
        if changed:
            with connection.cursor() as cursor:
                cursor.executemany(_FUNNEL_UPSERT.format(table=connection.ops.quote_name(FunnelDay._meta.db_table)),
                                   changed)


def rebuild_funnel(*, models=None, enterprise_keys=None) -> int:
    """The whole roll-up again from the applications (after a bulk load, or when the registry moved
    enterprises between districts or industries). Returns the number of days × groups written."""
    day_model, entry_model = models[2:] if models else (None, None)
    if day_model is None:
        from .models import FunnelDay as day_model, FunnelEntry as entry_model
    with transaction.atomic():
        entry_model.objects.all().delete()
        day_model.objects.all().delete()
        totals: dict[tuple, list[int]] = {}
        entries = []
        for uscc, parts in _funnel_entries(models=models[:2] if models else None,
                                           enterprise_keys=enterprise_keys).items():
            for (by, key, day), figures in parts.items():
                entries.append(entry_model(uscc=uscc, dimension=by, group_key=key, day=day,
                                           **dict(zip(rules.FUNNEL_FIGURES, figures))))
                row = totals.setdefault((by, key, day), [0] * len(figures))
                for i, v in enumerate(figures):
                    row[i] += v
        entry_model.objects.bulk_create(entries, batch_size=5000)
        day_model.objects.bulk_create([day_model(dimension=by, group_key=key, day=day, **dict(zip(rules.FUNNEL_FIGURES, f)))
                                       for (by, key, day), f in totals.items()], batch_size=5000)
    return len(totals)
