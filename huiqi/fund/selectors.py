"""Every read of the stable-development fund, scoped to the asking user: the parameters in force, the
rules' inputs from the registry, applications and their clocks, schedules, the ageing list, the funnel."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass

from django.db import connection
from django.db.models import Sum

from huiqi.core import params as core_params
from huiqi.core.workdays import Calendar
from huiqi.registry import selectors as registry

from . import rules
from .apps import PARAMS_KEY
from .models import Application, Repayment, StageClock, Tranche


# --- parameters and inputs ------------------------------------------------------------------------------

def params_on(day: dt.date | None = None) -> rules.Params:
    """The fund's parameters in force on ``day`` (today when omitted). An application received before the
    first set took effect (the channels took applications before the scheme's document was dated) is
    judged by that first set."""
    value = core_params.value(PARAMS_KEY, on=day, default=None)
    if value is None:
        first = core_params.history(PARAMS_KEY).last()
        if first is None:
            value = core_params.value(PARAMS_KEY, on=day)  # raises: no parameters at all
        value = first.value
    return rules.Params.from_mapping(value)


def registry_facts(uscc: str, day: dt.date) -> rules.RegistryFacts | None:
    """What the pre-check reads of the registry for ``uscc`` on ``day`` (None: not in the registry)."""
    enterprise = registry.enterprises().filter(uscc=uscc).first()
    if enterprise is None:
        return None
    return rules.RegistryFacts(enterprise.kind, enterprise.ownership, enterprise.size_class,
                               registry.dishonest_on(uscc, day))


def enterprise_of(uscc: str):
    return registry.enterprises().filter(uscc=uscc).first()


def headroom_fen(uscc: str, cap_fen: int, *, excluding: int | None = None) -> int:
    """The enterprise's headroom: the cap less its other approvals (net of cancelled undisbursed parts)."""
    qs = Application.objects.filter(uscc=uscc, approved_fen__isnull=False)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    totals = qs.aggregate(approved=Sum("approved_fen"), cancelled=Sum("cancelled_fen"))
    return rules.headroom(cap_fen, [totals["approved"] or 0], [totals["cancelled"] or 0])


def live_application(uscc: str):
    return Application.objects.filter(uscc=uscc, state__in=rules.LIVE_STATES).first()


# --- applications ---------------------------------------------------------------------------------------

def applications_for(user):
    """The applications the user may read, newest first."""
    return Application.objects.for_user(user).select_related("institution", "enterprise")


def application_for(user, pk: int) -> Application:
    return applications_for(user).get(pk=pk)


def application_by_number(user, number: str) -> Application:
    return applications_for(user).get(number=number)


def overdue_for(user, as_of: dt.date, qs=None):
    """The user's live applications whose open stage is past its due day on ``as_of`` — in SQL, over the
    stored due day (closed pauses included). A stage paused on or before its due day is not overdue while
    the pause lasts (its due day moves with every working day paused); one paused after it stays overdue."""
    from django.db.models import Exists, F, OuterRef, Q

    late = StageClock.objects.filter(application=OuterRef("pk"), done__isnull=True, due__lt=as_of).filter(
        Q(paused_since__isnull=True) | Q(paused_since__gt=F("due")))
    qs = applications_for(user) if qs is None else qs
    return qs.filter(state__in=rules.LIVE_STATES).filter(Exists(late))


def decisions_to_confirm(user):
    """Proposals at the user's channel waiting for a second person (never the proposer's own)."""
    return applications_for(user).filter(state="decision").exclude(proposed_outcome="").exclude(proposed_by=user)


@dataclass(frozen=True)
class Clock:
    stage: str
    entered: dt.date
    due: dt.date
    done: dt.date | None
    paused: bool
    days_late: int

    @property
    def overdue(self) -> bool:
        return self.days_late > 0


def clocks(application: Application, as_of: dt.date, calendar: Calendar | None = None) -> list[Clock]:
    """Each stage's clock of the application as of ``as_of``: its due day (moved by pauses, an open one up to
    as-of) and its working days late."""
    calendar = calendar or Calendar.cached()
    out = []
    for stage in application.stages.prefetch_related("pauses"):
        pauses = [rules.Pause(x.start, x.end) for x in stage.pauses.all()]
        due = rules.stage_due(calendar, stage.entered, stage.sla_days, pauses, as_of=stage.done or as_of)
        late = rules.working_days_late(calendar, due, stage.done, as_of)
        out.append(Clock(stage.stage, stage.entered, due, stage.done, stage.paused_since is not None, late))
    return out


def open_clocks(applications: list[Application], as_of: dt.date) -> dict[int, Clock]:
    """The open stage's clock of each application (one query for the stages and their pauses)."""
    calendar = Calendar.cached()
    out = {}
    for stage in StageClock.objects.filter(application__in=applications, done__isnull=True).prefetch_related("pauses"):
        pauses = [rules.Pause(x.start, x.end) for x in stage.pauses.all()]
        due = rules.stage_due(calendar, stage.entered, stage.sla_days, pauses, as_of=as_of)
        out[stage.application_id] = Clock(stage.stage, stage.entered, due, None, stage.paused_since is not None,
                                          rules.working_days_late(calendar, due, None, as_of))
    return out


def open_stage(application: Application):
    return application.stages.filter(done__isnull=True).first()


def ageing(user, as_of: dt.date, *, channel: str | None = None):
    """Every live application the user may read, with its open stage's clock: priority first, then the
    oldest due. Each entry is (application, Clock)."""
    calendar = Calendar.cached()
    qs = applications_for(user).filter(state__in=rules.LIVE_STATES)
    if channel:
        qs = qs.filter(channel=channel)
    stages = {s.application_id: s for s in StageClock.objects.filter(application__in=qs, done__isnull=True)
              .prefetch_related("pauses")}
    rows = []
    for app in qs:
        stage = stages.get(app.pk)
        if stage is None:
            continue
        pauses = [rules.Pause(x.start, x.end) for x in stage.pauses.all()]
        due = rules.stage_due(calendar, stage.entered, stage.sla_days, pauses, as_of=as_of)
        late = rules.working_days_late(calendar, due, None, as_of)
        rows.append((app, Clock(stage.stage, stage.entered, due, None, stage.paused_since is not None, late)))
    rows.sort(key=lambda r: (not r[0].priority, r[1].due, r[0].number))
    return rows


# --- schedule -------------------------------------------------------------------------------------------

def schedule_of(application: Application, calendar: Calendar | None = None) -> rules.Schedule | None:
    """The application's repayment schedule from its tranches and repayments (None before a tranche)."""
    if application.rate is None or application.maturity_date is None:
        return None
    p = params_on(application.decided_on)
    tranches = [rules.Movement(t.day, t.amount_fen) for t in application.tranches.all()]
    repaid = list(application.repayments.all())
    return rules.schedule(
        p, rate=application.rate, maturity_date=application.maturity_date, tranches=tranches,
        principal_repaid=[rules.Movement(r.day, r.amount_fen) for r in repaid if r.kind == Repayment.Kind.PRINCIPAL],
        interest_paid=[rules.Movement(r.day, r.amount_fen) for r in repaid if r.kind == Repayment.Kind.INTEREST],
        calendar=calendar or (Calendar.cached() if p.roll_due_dates else None))


def disbursed_by(application: Application, day: dt.date) -> int:
    return Tranche.objects.filter(application=application, day__lte=day).aggregate(s=Sum("amount_fen"))["s"] or 0


# --- the funnel -----------------------------------------------------------------------------------------

# The funnel in one statement: each application's group key (its channel, its enterprise's district or its
# industry's section), counted distinct per group and over all ('*').
_FUNNEL_SQL = """
WITH apps AS (
    SELECT a.id, a.uscc, {key} AS k, a.decided_on, a.approved_fen, a.cancelled_fen, a.cancelled_on
    FROM fund_application a {join} WHERE a.received_date <= %(as_of)s
), paid AS (
    SELECT apps.uscc, apps.k, t.amount_fen
    FROM fund_tranche t JOIN apps ON apps.id = t.application_id
    WHERE t.day <= %(as_of)s
), decided AS (
    SELECT uscc, k,
           approved_fen - CASE WHEN cancelled_on IS NOT NULL AND cancelled_on <= %(as_of)s
                               THEN cancelled_fen ELSE 0 END AS net
    FROM apps WHERE approved_fen IS NOT NULL AND decided_on <= %(as_of)s
)
SELECT k, 'applied', COUNT(DISTINCT uscc), 0 FROM apps GROUP BY k
UNION ALL SELECT '*', 'applied', COUNT(DISTINCT uscc), 0 FROM apps
UNION ALL SELECT k, 'decided', COUNT(DISTINCT uscc), COALESCE(SUM(net), 0) FROM decided GROUP BY k
UNION ALL SELECT '*', 'decided', COUNT(DISTINCT uscc), COALESCE(SUM(net), 0) FROM decided
UNION ALL SELECT k, 'paid', COUNT(DISTINCT uscc), COALESCE(SUM(amount_fen), 0) FROM paid GROUP BY k
UNION ALL SELECT '*', 'paid', COUNT(DISTINCT uscc), COALESCE(SUM(amount_fen), 0) FROM paid
"""
_GROUPS = {
    "channel": ("a.channel", ""),
    "district": ("COALESCE(e.district_id, '-')", "LEFT JOIN {enterprise} e ON e.id = a.enterprise_id"),
    "industry": ("COALESCE(i.section, '-')", "LEFT JOIN {enterprise} e ON e.id = a.enterprise_id "
                                             "LEFT JOIN {industry} i ON i.code = e.industry_id"),
}


def funnel_by_reference(as_of: dt.date, by: str = "channel") -> dict[str, rules.FunnelRow]:
    """The funnel as of ``as_of`` for each group of ``by`` (channel, district, industry section) and for the
    whole fund under the key ``'*'`` (each enterprise once), straight from the applications in one statement:
    the reference the roll-up (``funnel_groups``) is held equal to."""
    key, join = _GROUPS[by]
    sql = _FUNNEL_SQL.format(key=key, join=join.format(**registry.sql_tables()))
    figures: dict[str, dict[str, tuple[int, int]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {"as_of": as_of})
        for group, figure, n, amount in cursor.fetchall():
            figures.setdefault(str(group), {})[figure] = (int(n), int(amount))
    out = {}
    for group, f in figures.items():
        applied = f.get("applied", (0, 0))[0]
        decided, decided_fen = f.get("decided", (0, 0))
        paid, paid_fen = f.get("paid", (0, 0))
        out[group] = rules.FunnelRow(group, applied, decided, decided_fen, paid, paid_fen)
    if "*" not in out:
        out["*"] = rules.FunnelRow("*", 0, 0, 0, 0, 0)
    return out


def funnel_groups(as_of: dt.date) -> dict[str, dict[str, rules.FunnelRow]]:
    """The funnel as of ``as_of`` in every grouping at once — {"channel" | "district" | "industry": {group:
    row, "*": the whole fund}} — summed from the daily roll-up the services keep (a few thousand rows, one
    statement), equal to ``funnel_by_reference``."""
    from django.db.models import Sum

    from .models import FunnelDay

    figures = rules.FUNNEL_FIGURES
    rows = (FunnelDay.objects.filter(day__lte=as_of).values("dimension", "group_key")
            .annotate(**{f"t_{f}": Sum(f) for f in figures}).filter(t_applied__gt=0).order_by())
    out: dict[str, dict[str, rules.FunnelRow]] = {by: {} for by in _GROUPS}
    fund = rules.FunnelRow("*", 0, 0, 0, 0, 0)
    for r in rows:
        row = rules.FunnelRow(r["group_key"], *(int(r[f"t_{f}"]) for f in figures))
        if r["dimension"] == "fund":
            fund = row
        elif r["dimension"] in out:
            out[r["dimension"]][r["group_key"]] = row
    for groups in out.values():
        groups["*"] = fund
    return out


def funnel_by(as_of: dt.date, by: str = "channel") -> dict[str, rules.FunnelRow]:
    """The funnel as of ``as_of`` for each group of ``by`` (channel, district, industry section) and for the
    whole fund under the key ``'*'`` (each enterprise once), from the roll-up."""
    return funnel_groups(as_of)[by]


def funnel(as_of: dt.date, channels: list[str] | None = None, groups=None) -> list[rules.FunnelRow]:
    """The funnel per channel (every channel, even one with nothing yet) and for the fund (``groups``: the
    channel grouping of ``funnel_groups`` when the caller has it already)."""
    channels = channels or list(rules.CHANNELS)
    groups = groups if groups is not None else funnel_by(as_of, "channel")
    empty = rules.FunnelRow("", 0, 0, 0, 0, 0)
    rows = [groups.get(c, empty) for c in channels]
    return [*(rules.FunnelRow(c, *astuple(r)[1:]) for c, r in zip(channels, rows)),
            rules.FunnelRow("fund", *astuple(groups["*"])[1:])]


def application_numbered(number: str) -> Application:
    """An application by its number, unscoped: for the headless commands run by the operator."""
    from huiqi.core.errors import NotFound
    from django.utils.translation import gettext_lazy as _

    found = Application.objects.filter(number=number.strip().upper()).first()
    if found is None:
        raise NotFound("fund.no_such_application", _("申请 %(number)s 不存在"), field="application", value=number,
                       number=number)
    return found


def funnel_jobs_for(user, *, done: bool = False):
    """The funnel PDF jobs the user asked for (``core.selectors.report_jobs``)."""
    from huiqi.core.selectors import report_jobs

    from .jobs import REPORT_KIND

    return report_jobs(user, REPORT_KIND, done=done)


def applications_of_upload(user, upload):
    """The applications registered from a channel's 申请登记 file that the reader may see, in the file's order."""
    return applications_for(user).filter(upload=upload).order_by("pk")


def status_uploads_for(user, kind: str | None = None):
    """The files the channels sent (of ``kind``, or both kinds) a reader may see: the bureau, auditors and
    administrators all; a channel's staff their institution's; no one else."""
    from .models import StatusUpload

    qs = StatusUpload.objects.select_related("institution", "uploaded_by", "job")
    if kind is not None:
        qs = qs.filter(kind=kind)
    if user.has_perm("fund.view_all"):
        return qs
    if user.has_perm("fund.upload_status") and getattr(user, "institution_id", None):
        return qs.filter(institution_id=user.institution_id)
    return qs.none()
