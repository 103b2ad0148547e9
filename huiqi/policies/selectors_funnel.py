"""The per-policy funnel (政策转化漏斗): per item and period, distinct enterprises at each step — views of the
item's page (signed-in enterprises; anonymous page views as a count beside), pushes sent, opens,
applications (submitted; an ``auto`` item: on a confirmed 免申即享 list), approvals (approved; ``auto``: on a
payment list) — and the money paid, with each step's rate over the one before (``rules.funnel_rates``).

City-wide readers see every item; a department the items it owns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from huiqi.accounts.selectors import Role, role_of

from . import rules, selectors
from .models import AutoEntry, ItemVersion, ListStatus, Mode


@dataclass(frozen=True)
class FunnelRow:
    code: str
    title: str
    mode: str
    views: int = 0
    anonymous_views: int = 0
    pushes: int = 0
    opens: int = 0
    applications: int = 0
    approvals: int = 0
    paid_fen: int = 0
    rates: dict = field(default_factory=dict, compare=False)

    def counts(self) -> dict[str, int]:
        return {step: getattr(self, step) for step in rules.FUNNEL_STEPS}

    def cells(self) -> list[tuple[str, int, Decimal | None]]:
        """Each step with its distinct enterprises and its rate over the step before (None: the first step,
        or the step before had none)."""
        return [(step, getattr(self, step), self.rates.get(step)) for step in rules.FUNNEL_STEPS]


def _day_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants of Beijing days ``start``–``end`` (both included), for a timestamp column."""
    tz = timezone.get_default_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))


def auto_figures(start: dt.date, end: dt.date, codes=None) -> dict[str, dict]:
    """The ``auto`` items' later steps in the period: distinct beneficiaries listed on a list confirmed in it
    (applications), on a payment list prepared in it (approvals), and Σ paid of lists reconciled in it."""
    low, high = _day_range(start, end)
    listed = AutoEntry.objects.filter(status=AutoEntry.Status.LISTED)
    if codes is not None:
        listed = listed.filter(auto_list__item__code__in=list(codes))
    confirmed = Q(auto_list__confirmed_at__gte=low, auto_list__confirmed_at__lt=high)
    prepared = Q(auto_list__payment_prepared_at__gte=low, auto_list__payment_prepared_at__lt=high)
    paid = Q(auto_list__reconciled_at__gte=low, auto_list__reconciled_at__lt=high, payment=AutoEntry.Payment.PAID,
             auto_list__status=ListStatus.RECONCILED)
    rows = (listed.filter(confirmed | prepared | paid).order_by().values("auto_list__item__code")
            .annotate(applications=Count("beneficiary_id", filter=confirmed, distinct=True),
                      approvals=Count("beneficiary_id", filter=prepared, distinct=True),
                      paid_fen=Sum("amount_fen", filter=paid)))
    return {r["auto_list__item__code"]: {"applications": r["applications"], "approvals": r["approvals"],
                                         "paid_fen": r["paid_fen"] or 0} for r in rows}


def funnel_items(user):
    """The items whose funnel ``user`` reads, {code: (title, mode)} of their latest version: every item for the
    bureau, auditors and administrators; a department its own; no one else any."""
    role = role_of(user)
    versions = ItemVersion.objects.order_by("item__code", "number")
    if role == Role.DEPARTMENT:
        versions = versions.filter(item__department_id=user.agency_id) if user.agency_id else versions.none()
    elif role not in (Role.BUREAU, Role.AUDITOR, Role.ADMIN):
        versions = versions.none()
    out = {}
    for code, title, mode in versions.values_list("item__code", "title", "mode"):
        out[code] = (title, mode)  # the latest version wins
    return out


def funnel(user, start: dt.date, end: dt.date, *, code: str = "", mode: str = "") -> tuple[list[FunnelRow], FunnelRow]:
    """The funnel of each item the user reads with anything in the period (``code``/``mode`` narrow it), and
    the total row (sums of the items' distinct enterprises: an enterprise in two items counts in each)."""
    items = funnel_items(user)
    if code:
        items = {c: v for c, v in items.items() if c == code}
    if mode:
        items = {c: v for c, v in items.items() if v[1] == mode}
    codes = list(items)
    pushed = selectors.push_figures(start, end, codes)
    applied = {r.code: r for r in selectors.application_funnel(start, end, codes)}
    listed = auto_figures(start, end, codes)
    rows = []
    for c in codes:
        title, item_mode = items[c]
        figures = dict(pushed.get(c, {}))
        if item_mode == Mode.AUTO:
            figures.update(listed.get(c, {}))
        elif c in applied:
            a = applied[c]
            figures.update(applications=a.submitted, approvals=a.approved, paid_fen=a.paid_fen)
        if not any(figures.values()):
            continue
        row = FunnelRow(c, title, item_mode, **{k: v for k, v in figures.items() if k in FunnelRow.__dataclass_fields__})
        rows.append(FunnelRow(**{**row.__dict__, "rates": rules.funnel_rates(row.counts())}))
    total = {k: sum(getattr(r, k) for r in rows) for k in (*rules.FUNNEL_STEPS, "anonymous_views", "paid_fen")}
    total_row = FunnelRow("", "", "", **total)
    return rows, FunnelRow(**{**total_row.__dict__, "rates": rules.funnel_rates(total_row.counts())})
