"""Stable-development fund (民营企业平稳发展基金): pre-check, stage clocks, the decision's cap and rate, the
repayment schedule and its interest, the funnel's line.

Pure functions over plain values, no Django models and no database; ``shared/specs/stable-fund.md`` is the
contract and its worked example is a test. Money is whole fen (int); rates are ``Decimal`` kept exactly;
interest is a ``Fraction`` of fen until it is rounded, once per period, half-up (ties away from zero).

Choices the spec leaves open, decided here:

- The pre-check stage runs from the received date until the channel starts due diligence (an application
  that passed sits in ``prechecked`` meanwhile); due diligence ends when the channel sends it to decision;
  the decision stage ends with the second person's approval or rejection; the contract stage runs from
  approval to the contract; the first-disbursement stage from the contract to the first tranche.
- A pause waiting for the enterprise from day P to day R covers the working days in ``(P, R]`` (P is the day
  the channel asked; the enterprise's answer on R resumes the clock); an open pause covers ``(P, as-of]``.
- Interest periods are counted from the first tranche date (period k starts at first + k × months, clamped
  to the month's end), not chained from one period's end to the next, so clamping never drifts.
- Principal is one scheduled amount at maturity, the whole disbursed sum; early repayments pay towards it.
  Interest payments settle the scheduled interest amounts oldest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import Conflict, ValidationFailed
from huiqi.core.months import add_months

# --- vocabulary -----------------------------------------------------------------------------------------

STATES = {
    "received": _("已受理"),
    "prechecked": _("预审通过"),
    "precheck_failed": _("预审未通过"),
    "due_diligence": _("尽职调查"),
    "decision": _("待决策"),
    "approved": _("已批准"),
    "rejected": _("未获批准"),
    "contracted": _("已签约"),
    "disbursing": _("放款中"),
    "disbursed": _("已放款"),
    "closed": _("已结清"),
    "withdrawn": _("已撤回"),
}
LIVE_STATES = frozenset({"received", "prechecked", "due_diligence", "decision"})
BEFORE_APPROVAL = LIVE_STATES
# The allowed transitions (``from → {to}``); ``withdrawn`` is reachable from every state before approval.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "received": frozenset({"prechecked", "precheck_failed", "withdrawn"}),
    "prechecked": frozenset({"due_diligence", "withdrawn"}),
    "due_diligence": frozenset({"decision", "withdrawn"}),
    "decision": frozenset({"approved", "rejected", "withdrawn"}),
    "approved": frozenset({"contracted"}),
    "contracted": frozenset({"disbursing", "disbursed"}),
    "disbursing": frozenset({"disbursed"}),
    "disbursed": frozenset({"closed"}),
}

# Pre-check reasons in the order they are checked (the first is the one lists show).
PRECHECK_REASONS = {
    "not_in_registry": _("企业不在登记库中"),
    "kind_not_covered": _("主体类型不在支持范围（个体工商户不适用）"),
    "not_private": _("企业为国有控股，不属于民营企业"),
    "ownership_unknown": _("企业所有制性质未知，待补充后重新预审"),
    "size_large": _("企业为大型企业，不属于中小企业"),
    "size_unknown": _("企业规模未知，待补充数据后重新预审"),
    "credit_blacklisted": _("受理日企业在失信被执行人名单上"),
    "impact_not_declared": _("未填写疫情对企业现金流影响的说明"),
    "enterprise_cap_exhausted": _("企业已获批金额达到单户上限，没有剩余额度"),
}
# These keep the application in ``received`` until the figure is supplied; the others end it.
PENDING_REASONS = frozenset({"ownership_unknown", "size_unknown"})

REJECTION_REASONS = {
    "not_epidemic_affected": _("经营未受疫情影响"),
    "repayment_capacity_insufficient": _("还款能力不足"),
    "guarantee_insufficient": _("担保措施不足"),
    "credit_record_adverse": _("信用记录不良"),
    "documents_incomplete": _("材料不齐全"),
    "other": _("其他（须说明）"),
}
WITHDRAWAL_REASONS = {
    "enterprise_request": _("企业申请撤回"),
    "transferred_to_other_channel": _("转至另一渠道办理"),
}
PRIORITY_REASONS = {
    "supplies_producer": _("重点医疗物资和紧缺生活物资生产企业"),
    "key_enterprise": _("重点企业名单"),
    "transport_or_sale": _("重点物资运输或销售"),
    "outstanding_contribution": _("其他突出贡献"),
}

STAGES = {
    "precheck": _("资格预审"),
    "due_diligence": _("尽职调查"),
    "decision": _("决策"),
    "contract": _("签约"),
    "first_disbursement": _("首笔放款"),
}
# The state an application is in while each stage's clock runs (the pre-check spans two).
STAGE_OF_STATE = {"received": "precheck", "prechecked": "precheck", "due_diligence": "due_diligence",
                  "decision": "decision", "approved": "contract", "contracted": "first_disbursement"}

OWNERSHIP = {"private": _("民营"), "state_controlled": _("国有控股"), "unknown": _("未知")}
SME_SIZES = frozenset({"medium", "small", "micro"})

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

# The two channels (债权支持实施企业) and the fund institution each is.
CHANNELS = {"hti": (_("高新投"), "SZHTI"), "sgg": (_("担保集团"), "SZCGG")}

PARAMETER_LABELS = {
    "base_rate_hti": _("高新投原最高债权支持年利率"),
    "base_rate_sgg": _("担保集团原最高债权支持年利率"),
    "enterprise_cap": _("单户支持上限"),
    "discount": _("利率折扣"),
    "max_term_months": _("最长期限"),
    "kinds_covered": _("支持的主体类型"),
    "sla_precheck": _("资格预审时限"),
    "sla_due_diligence": _("尽职调查时限"),
    "sla_due_diligence_priority": _("尽职调查时限（优先支持）"),
    "sla_decision": _("决策时限"),
    "sla_decision_priority": _("决策时限（优先支持）"),
    "sla_contract": _("签约时限"),
    "sla_first_disbursement": _("首笔放款时限"),
    "day_basis": _("计息天数基础"),
    "interest_period_months": _("付息周期"),
    "roll_due_dates": _("到期日遇节假日顺延"),
}

# The spec's defaults, JSON-ready as stored (amounts in 元 and rates as text). The base rates have no
# default: each channel's must be set before the fund goes live.
OPTIONAL = frozenset({"base_rate_hti", "base_rate_sgg"})
DEFAULTS: Mapping[str, object] = {
    "enterprise_cap": "30000000.00",
    "discount": "0.7",
    "max_term_months": 12,
    "kinds_covered": ["enterprise"],
    "sla_precheck": 2,
    "sla_due_diligence": 10,
    "sla_due_diligence_priority": 5,
    "sla_decision": 3,
    "sla_decision_priority": 2,
    "sla_contract": 3,
    "sla_first_disbursement": 3,
    "day_basis": 360,
    "interest_period_months": 1,
    "roll_due_dates": False,
}


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return Decimal(str(value))


def yuan_to_fen_exact(value) -> int:
    d = Decimal(str(value).replace(",", ""))
    return int(d * 100)


@dataclass(frozen=True)
class Channel:
    code: str
    name: object  # a lazy translation
    institution: str
    base_rate: Decimal | None


@dataclass(frozen=True)
class Params:
    """The fund's numbers in force on a day (or a test's)."""

    channels: tuple[Channel, ...]
    enterprise_cap_fen: int
    discount: Decimal
    max_term_months: int
    kinds_covered: frozenset[str]
    sla: Mapping[str, int]
    day_basis: int
    interest_period_months: int
    roll_due_dates: bool = False

    @classmethod
    def from_mapping(cls, d: Mapping[str, object]) -> Params:
        """From the stored value (already checked against the schema of ``site.PARAMETERS``)."""
        merged = {**DEFAULTS, **d}
        channels = tuple(Channel(code, name, institution, _decimal(merged.get(f"base_rate_{code}")))
                         for code, (name, institution) in CHANNELS.items())
        return cls(
            channels=channels,
            enterprise_cap_fen=yuan_to_fen_exact(merged["enterprise_cap"]),
            discount=Decimal(str(merged["discount"])),
            max_term_months=int(merged["max_term_months"]),
            kinds_covered=frozenset(merged["kinds_covered"]),
            sla={name[4:]: int(merged[name]) for name in PARAMETER_LABELS if name.startswith("sla_")},
            day_basis=int(merged["day_basis"]),
            interest_period_months=int(merged["interest_period_months"]),
            roll_due_dates=bool(merged.get("roll_due_dates", False)),
        )

    def channel(self, code: str) -> Channel | None:
        return next((c for c in self.channels if c.code == code), None)

    def channel_of_institution(self, institution_code: str) -> Channel | None:
        return next((c for c in self.channels if c.institution == institution_code), None)

    def sla_days(self, stage: str, priority: bool) -> int:
        """Working days allowed in ``stage`` (the priority figure where the spec gives one)."""
        if priority and f"{stage}_priority" in self.sla:
            return self.sla[f"{stage}_priority"]
        return self.sla[stage]

    def scheme_rate(self, channel_code: str) -> Decimal:
        """The scheme's rate on the channel: base rate × discount, exactly (0.0550 × 0.7 = 0.0385)."""
        channel = self.channel(channel_code)
        if channel is None or channel.base_rate is None:
            raise Conflict("fund.base_rate_missing", _("渠道 %(channel)s 的基准利率尚未设置，不能决策"),
                           field="rate", value=channel_code, channel=channel_code)
        return channel.base_rate * self.discount


# --- bad input ------------------------------------------------------------------------------------------

def bad(field_name: str, code: str, message, raw=None, **params) -> ValidationFailed:
    """A refusal of ``field_name``'s input ``raw``; ``params`` fill the message (its ``value`` too)."""
    return ValidationFailed(f"fund.{code}", message, field=field_name, value=raw, **params)


def check_day(field_name: str, day, label) -> list[ValidationFailed]:
    """A business date inside 2000–2100."""
    if not isinstance(day, dt.date) or not EARLIEST <= day <= LATEST:
        return [bad(field_name, "date_out_of_range", _("%(label)s %(given)s 必须是 2000 年至 2100 年之间的日期"),
                    day, label=label, given=day)]
    return []


def check_application(p: Params, *, channel: str, requested_fen, term_months, received) -> list[ValidationFailed]:
    """Every rule of the register's input that the input breaks (all at once), or nothing."""
    errors = []
    if p.channel(channel) is None:
        errors.append(bad("channel", "unknown_channel", _("渠道 %(given)s 不存在，须为 %(allowed)s 之一"), channel,
                          given=channel, allowed="、".join(c.code for c in p.channels)))
    if not isinstance(requested_fen, int) or requested_fen <= 0:
        errors.append(bad("amount", "amount_not_positive", _("申请金额 %(given)s 必须大于 0"), requested_fen,
                          given=fen_text(requested_fen)))
    elif requested_fen > p.enterprise_cap_fen:
        errors.append(bad("amount", "amount_above_cap", _("申请金额 %(given)s 元超过单户上限 %(cap)s 元"), requested_fen,
                          given=fen_text(requested_fen), cap=fen_text(p.enterprise_cap_fen)))
    if not isinstance(term_months, int) or not 1 <= term_months <= p.max_term_months:
        errors.append(bad("term_months", "term_out_of_range", _("申请期限 %(given)s 个月须在 1 到 %(max)s 个月之间"),
                          term_months, given=term_months, max=p.max_term_months))
    errors += check_day("received_date", received, _("受理日期"))
    return errors


def fen_text(fen) -> str:
    """'1234.56' (two decimals, no separators): messages and CSV files."""
    if not isinstance(fen, int):
        return str(fen)
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan}.{cents:02d}"


def check_transition(current: str, target: str) -> None:
    """Refuse a move the state table does not allow (``illegal_transition``)."""
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict("fund.illegal_transition", _("申请当前状态为“%(current)s”，不能转为“%(target)s”"),
                       field="state", value=target, current=STATES.get(current, current),
                       target=STATES.get(target, target))


# --- pre-check ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegistryFacts:
    """What the pre-check reads of an enterprise on the received date."""

    kind: str
    ownership: str      # private / state_controlled / unknown
    size_class: str     # large / medium / small / micro / unknown
    blacklisted: bool   # on the 失信 list on the received date


def precheck(facts: RegistryFacts | None, p: Params, *, impact: str, headroom_fen: int) -> list[str]:
    """Every failing check in the spec's order (empty: passed)."""
    if facts is None:
        reasons = ["not_in_registry"]
    else:
        reasons = []
        if facts.kind not in p.kinds_covered:
            reasons.append("kind_not_covered")
        if facts.ownership == "state_controlled":
            reasons.append("not_private")
        elif facts.ownership != "private":
            reasons.append("ownership_unknown")
        if facts.size_class == "large":
            reasons.append("size_large")
        elif facts.size_class not in SME_SIZES:
            reasons.append("size_unknown")
        if facts.blacklisted:
            reasons.append("credit_blacklisted")
    if not (impact or "").strip():
        reasons.append("impact_not_declared")
    if headroom_fen <= 0:
        reasons.append("enterprise_cap_exhausted")
    return reasons


def precheck_state(reasons: Sequence[str]) -> str:
    """Where the pre-check leaves an application: passed, waiting for a figure, or failed."""
    if not reasons:
        return "prechecked"
    if set(reasons) <= PENDING_REASONS:
        return "received"
    return "precheck_failed"


# --- stage clocks ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pause:
    """Waiting for the enterprise from ``start`` (the day asked) to ``end`` (the day answered; None: open)."""

    start: dt.date
    end: dt.date | None = None


def paused_working_days(calendar, pauses: Iterable[Pause], as_of: dt.date) -> int:
    """Working days the pauses covered: ``(start, end]``, or ``(start, as_of]`` while open."""
    return sum(calendar.working_days_between(x.start, min(x.end or as_of, as_of)) for x in pauses)


def stage_due(calendar, entered: dt.date, sla_days: int, pauses: Iterable[Pause] = (),
              as_of: dt.date | None = None) -> dt.date:
    """The stage's due day: the ``sla_days``-th working day strictly after ``entered``, moved by the
    working days its pauses covered (up to ``as_of`` for an open pause)."""
    pauses = tuple(pauses)
    covered = paused_working_days(calendar, pauses, as_of or max([entered, *[x.end or x.start for x in pauses]]))
    return calendar.add_working_days(entered, sla_days + covered)


def working_days_late(calendar, due: dt.date, done: dt.date | None, as_of: dt.date) -> int:
    """Working days in ``(due, done]``, or ``(due, as_of]`` while the stage is open."""
    return calendar.working_days_between(due, done if done is not None else as_of)


# --- decision -------------------------------------------------------------------------------------------

def headroom(cap_fen: int, other_approved_fen: Iterable[int], cancelled_fen: Iterable[int] = ()) -> int:
    """What is left of the enterprise's cap: cap − Σ approved of its other approved applications, less the
    parts of them cancelled before disbursement. Repayment does not restore it. Never below 0."""
    return max(0, cap_fen - sum(other_approved_fen) + sum(cancelled_fen))


@dataclass(frozen=True)
class Decision:
    approved_fen: int
    capped: bool          # ``capped_at_enterprise_limit``
    rate: Decimal


def decide(p: Params, *, channel: str, requested_fen: int, proposed_fen: int, headroom_fen: int,
           term_months: int, rate: Decimal | None = None) -> Decision:
    """The approved amount (``min(proposed, headroom)``) and rate (the scheme's unless a lower one is
    given); every broken rule is reported at once."""
    errors = []
    if not isinstance(proposed_fen, int) or proposed_fen <= 0:
        errors.append(bad("amount", "amount_not_positive", _("拟批准金额 %(given)s 必须大于 0"), proposed_fen,
                          given=fen_text(proposed_fen)))
    elif proposed_fen > requested_fen:
        errors.append(bad("amount", "amount_above_requested", _("拟批准金额 %(given)s 元超过申请金额 %(requested)s 元"),
                          proposed_fen, given=fen_text(proposed_fen), requested=fen_text(requested_fen)))
    if not isinstance(term_months, int) or not 1 <= term_months <= p.max_term_months:
        errors.append(bad("term_months", "term_out_of_range", _("期限 %(given)s 个月须在 1 到 %(max)s 个月之间"),
                          term_months, given=term_months, max=p.max_term_months))
    scheme = p.scheme_rate(channel)
    if rate is not None and rate > scheme:
        errors.append(bad("rate", "rate_above_scheme_max", _("利率 %(given)s 高于本计划最高利率 %(max)s"), rate,
                          given=rate, max=scheme))
    elif rate is not None and rate <= 0:
        errors.append(bad("rate", "rate_not_positive", _("利率 %(given)s 必须大于 0"), rate, given=rate))
    if headroom_fen <= 0:
        errors.append(bad("amount", "enterprise_cap_exhausted", PRECHECK_REASONS["enterprise_cap_exhausted"], 0))
    if errors:
        from huiqi.core.errors import InvalidFields

        raise InvalidFields(errors)
    approved = min(proposed_fen, headroom_fen)
    return Decision(approved, approved < proposed_fen, scheme if rate is None else rate)


def maturity(first_tranche: dt.date, term_months: int) -> dt.date:
    """First tranche date + term (calendar months, clamped to the month's end)."""
    return add_months(first_tranche, term_months)


def check_tranche(*, day: dt.date, amount_fen: int, contract_date: dt.date, maturity_date: dt.date | None,
                  approved_fen: int, disbursed_fen: int) -> list[ValidationFailed]:
    """A tranche's rules: amount > 0, on or after the contract, before maturity, Σ ≤ approved."""
    errors = check_day("date", day, _("放款日期"))
    if not errors and day < contract_date:
        errors.append(bad("date", "tranche_before_contract", _("放款日期 %(given)s 早于签约日期 %(contract)s"), day,
                          given=day, contract=contract_date))
    if not errors and maturity_date is not None and day >= maturity_date:
        errors.append(bad("date", "tranche_after_maturity", _("放款日期 %(given)s 不早于到期日 %(maturity)s"), day,
                          given=day, maturity=maturity_date))
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        errors.append(bad("amount", "amount_not_positive", _("放款金额 %(given)s 必须大于 0"), amount_fen,
                          given=fen_text(amount_fen)))
    elif disbursed_fen + amount_fen > approved_fen:
        errors.append(bad("amount", "tranche_exceeds_approved",
                          _("放款金额 %(given)s 元使累计放款超过批准金额 %(approved)s 元（已放款 %(disbursed)s 元）"),
                          amount_fen, given=fen_text(amount_fen), approved=fen_text(approved_fen),
                          disbursed=fen_text(disbursed_fen)))
    return errors


# --- schedule and interest ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Movement:
    """A tranche (+) or a principal repayment (−) of ``amount_fen`` on ``day``."""

    day: dt.date
    amount_fen: int


def balance_days(movements: Sequence[Movement], start: dt.date, end: dt.date) -> int:
    """Σ over days d in [start, end) of the balance on d (fen-days). A tranche counts from its own day; a
    repayment on d stops accruing on d."""
    total = 0
    balance = sum(m.amount_fen for m in movements if m.day <= start)
    day = start
    for m in sorted((m for m in movements if start < m.day < end), key=lambda m: m.day):
        total += balance * (m.day - day).days
        balance += m.amount_fen
        day = m.day
    return total + balance * (end - day).days


def half_up_fen(amount: Fraction) -> int:
    """A fraction of fen rounded half-up (ties away from zero) to a whole fen."""
    n, d = abs(amount.numerator), amount.denominator
    q, r = divmod(n, d)
    if 2 * r >= d:
        q += 1
    return q if amount >= 0 else -q


def period_interest(fen_days: int, rate: Decimal, day_basis: int) -> int:
    """A period's interest: balance-days × annual rate / day basis, exact, rounded once half-up to the fen."""
    return half_up_fen(Fraction(fen_days) * Fraction(rate) / day_basis)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    due: dt.date
    balance_days_fen: int
    interest_fen: int
    paid_on: dt.date | None = None

    @property
    def days_late(self) -> int | None:
        return None if self.paid_on is None else max(0, (self.paid_on - self.due).days)


def period_bounds(first_tranche: dt.date, maturity_date: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """[start, end) of each interest period from the first tranche in steps of ``months``; the last ends at
    maturity."""
    bounds, k = [], 0
    start = first_tranche
    while start < maturity_date:
        k += 1
        end = min(add_months(first_tranche, k * months), maturity_date)
        bounds.append((start, end))
        start = end
    return bounds


def paid_dates(amounts: Sequence[int], payments: Iterable[tuple[dt.date, int]]) -> list[dt.date | None]:
    """The day each scheduled amount (in order) is fully paid by payments applied oldest first."""
    payments = sorted(payments)
    out, cumulative_due, paid, i = [], 0, 0, 0
    for amount in amounts:
        cumulative_due += amount
        while paid < cumulative_due and i < len(payments):
            paid += payments[i][1]
            i += 1
        if paid >= cumulative_due:
            out.append(payments[i - 1][0] if i else None)
        else:
            out.append(None)
    return out


@dataclass(frozen=True)
class Schedule:
    periods: list[Period]
    maturity: dt.date
    principal_fen: int
    principal_paid_on: dt.date | None

    def due_items(self) -> list[tuple[dt.date, dt.date | None]]:
        """(due date, paid on) of every scheduled amount, interest and the principal at maturity."""
        items = [(x.due, x.paid_on) for x in self.periods if x.interest_fen > 0]
        if self.principal_fen > 0:
            items.append((self.maturity, self.principal_paid_on))
        return sorted(items, key=lambda item: item[0])


def schedule(p: Params, *, rate: Decimal, maturity_date: dt.date, tranches: Sequence[Movement],
             principal_repaid: Sequence[Movement] = (), interest_paid: Sequence[Movement] = (),
             calendar=None) -> Schedule:
    """The repayment schedule of an application: interest per period (each rounded once), the principal
    at maturity, and when each was fully paid. ``principal_repaid`` amounts are positive."""
    if not tranches:
        return Schedule([], maturity_date, 0, None)
    first = min(t.day for t in tranches)
    movements = [*tranches, *(Movement(m.day, -m.amount_fen) for m in principal_repaid)]
    rows = []
    for start, end in period_bounds(first, maturity_date, p.interest_period_months):
        fen_days = balance_days(movements, start, end)
        due = end
        if p.roll_due_dates and calendar is not None and not calendar.is_working_day(due):
            due = calendar.add_working_days(due, 1)
        rows.append((start, end, due, fen_days, period_interest(fen_days, rate, p.day_basis)))
    paid = paid_dates([r[4] for r in rows], [(m.day, m.amount_fen) for m in interest_paid])
    periods = [Period(s, e, due, bd, interest, paid_on if interest > 0 else None)
               for (s, e, due, bd, interest), paid_on in zip(rows, paid)]
    principal = sum(t.amount_fen for t in tranches)
    (principal_paid_on,) = paid_dates([principal], [(m.day, m.amount_fen) for m in principal_repaid])
    return Schedule(periods, maturity_date, principal, principal_paid_on)


def overdue_days(sched: Schedule, as_of: dt.date) -> int:
    """``as_of − due`` of the oldest scheduled amount still unpaid at the end of ``as_of``, else 0."""
    for due, paid_on in sched.due_items():
        if due > as_of:
            return 0
        if paid_on is None or paid_on > as_of:
            return (as_of - due).days
    return 0


# --- the funnel -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FunnelRow:
    scope: str
    enterprises_applied: int
    enterprises_decided: int
    amount_decided_fen: int
    enterprises_disbursed: int
    amount_disbursed_fen: int


def yi_text(fen: int) -> str:
    """An amount in 亿元, half-up to 0.01 (2,599,000,000.00 元 → '25.99')."""
    return format((Decimal(fen) / Decimal(10_000_000_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")


def funnel_line(as_of: dt.date, row: FunnelRow) -> str:
    """The seed's sentence, in Chinese, from the fund's figures."""
    return (f"截至{as_of.month}月{as_of.day}日，累计收到{row.enterprises_applied}家企业的资金申请；"
            f"累计决策为{row.enterprises_decided}家中小企业提供资金支持{yi_text(row.amount_decided_fen)}亿元；"
            f"已向{row.enterprises_disbursed}家中小企业发放支持资金{yi_text(row.amount_disbursed_fen)}亿元。")


@dataclass(frozen=True)
class FunnelFacts:
    """Plain facts of one application for the pure funnel (the reference the SQL is tested against)."""

    enterprise: str
    channel: str
    received: dt.date
    approved_on: dt.date | None = None
    approved_fen: int = 0
    cancellations: tuple[tuple[dt.date, int], ...] = ()
    tranches: tuple[tuple[dt.date, int], ...] = field(default=())


def funnel(facts: Iterable[FunnelFacts], as_of: dt.date, channels: Sequence[str]) -> list[FunnelRow]:
    """The funnel per channel and for the fund (each enterprise counted once) as of ``as_of``."""
    facts = list(facts)

    def row(scope, chosen):
        applied = {f.enterprise for f in chosen if f.received <= as_of}
        decided = [f for f in chosen if f.approved_on is not None and f.approved_on <= as_of]
        amount_decided = sum(f.approved_fen - sum(a for d, a in f.cancellations if d <= as_of) for f in decided)
        paid = [(f.enterprise, a) for f in chosen for d, a in f.tranches if d <= as_of]
        return FunnelRow(scope, len(applied), len({f.enterprise for f in decided}), amount_decided,
                         len({e for e, _a in paid}), sum(a for _e, a in paid))

    return [*(row(c, [f for f in facts if f.channel == c]) for c in channels), row("fund", facts)]


# The funnel's daily roll-up: what one enterprise adds to each group's figures on each day, so that the
# funnel at X is the sum of the days up to X (``selectors.funnel_groups``). An enterprise counts once in a
# group from the first day it is there (its first application received, its first decision, its first
# tranche); an amount counts from its own day. A day is never before the application's received date: the
# funnel counts only applications received by X.
FUNNEL_DIMENSIONS = ("channel", "district", "industry", "fund")
FUNNEL_FIGURES = ("applied", "decided", "decided_fen", "paid", "paid_fen")


def funnel_entries(apps: Iterable[tuple[Mapping[str, str], FunnelFacts]]) -> dict[tuple[str, str, dt.date], list[int]]:
    """Each (dimension, group, day) an enterprise's applications add to, with the five figures
    (``FUNNEL_FIGURES``) added that day. ``apps`` are (its group in each of ``FUNNEL_DIMENSIONS``, its facts)
    for every application of one enterprise (or of several: then each counts once per group all the same,
    only when the facts' ``enterprise`` differ)."""
    out: dict[tuple[str, str, dt.date], list[int]] = {}

    def add(dim, key, day, i, value):
        out.setdefault((dim, key, day), [0] * len(FUNNEL_FIGURES))[i] += value

    groups: dict[tuple[str, str, str], list[FunnelFacts]] = {}
    for keys, f in apps:
        for dim in FUNNEL_DIMENSIONS:
            groups.setdefault((dim, keys[dim], f.enterprise), []).append(f)
    for (dim, key, _enterprise), chosen in groups.items():
        add(dim, key, min(f.received for f in chosen), 0, 1)
        decided = [f for f in chosen if f.approved_on is not None]
        if decided:
            add(dim, key, min(max(f.received, f.approved_on) for f in decided), 1, 1)
        for f in decided:
            add(dim, key, max(f.received, f.approved_on), 2, f.approved_fen)
            for day, amount in f.cancellations:
                add(dim, key, max(f.received, f.approved_on, day), 2, -amount)
        paid = [(max(f.received, day), amount) for f in chosen for day, amount in f.tranches]
        if paid:
            add(dim, key, min(day for day, _a in paid), 3, 1)
        for day, amount in paid:
            add(dim, key, day, 4, amount)
    return out
