"""Return-to-work reads, each scoped to the asking user.

- enterprise users: their own enterprises' filings and daily checks; no figures;
- district officers: their district's filings, checks, follow-ups and figures;
- department, bureau, auditors and administrators: the city.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.accounts.selectors import Role, role_of
from huiqi.core.i18n import localized
from huiqi.core.models import Parameter
from huiqi.core.selectors import report_jobs
from huiqi.registry import selectors as registry_selectors

from . import rules
from .apps import FILING_REQUIRED_KEY
from .filters import AWAITING_DISTRICT
from .jobs import REPORT_KIND
from .models import (
    CheckResult,
    DailyCheck,
    DailyRollup,
    Difficulty,
    DifficultyKind,
    FilingAttachment,
    FILING_TRANSITIONS,
    FilingStatus,
    ReturnToWorkFiling,
)

CITY_WIDE = {Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.ADMIN}
SUMS = ("reports", "on_time", "open_count", "staff_total", "staff_returned", "staff_on_site", "capacity_sum",
        "suspected_cases", "confirmed_cases")
DIMENSIONS = {
    "district": ("district_id", "district_id"),
    "industry": ("industry_section", "industry__section"),
    "size": ("size_class", "size_class"),
    "key": ("is_key", "is_key_enterprise"),
}


def _scoped(qs, user):
    """Rows carrying ``district`` and ``enterprise``: the city's, the officer's district's, or the
    enterprise user's own."""
    role = role_of(user)
    if role in CITY_WIDE:
        return qs
    if role == Role.DISTRICT:
        return qs.filter(district_id=user.district_id)
    if role == Role.ENTERPRISE:
        return qs.filter(enterprise__in=user.enterprises.all())
    return qs.none()


def filings_for(user):
    return _scoped(ReturnToWorkFiling.objects.select_related("enterprise", "district", "inspector"), user)


def daily_checks_for(user):
    return _scoped(DailyCheck.objects.select_related("enterprise"), user)


def difficulties_for(user):
    return _scoped(Difficulty.objects.select_related("enterprise", "district", "followed_up_by"), user)


def follow_ups_for(user, open_only: bool = True):
    qs = difficulties_for(user).filter(needs_help=True)
    if open_only:
        qs = qs.filter(followed_up_at__isnull=True)
    return qs.order_by("-day", "enterprise__name")


def own_enterprises(user):
    return registry_selectors.scope_enterprises(user, registry_selectors.enterprises()) if role_of(user) == Role.ENTERPRISE else registry_selectors.enterprises().none()


def own_filings(user):
    """The filings of the user's own enterprises (a confirmation page is its owner's only)."""
    return filings_for(user).filter(enterprise__in=own_enterprises(user))


def own_daily_checks(user):
    """The daily checks of the user's own enterprises."""
    return daily_checks_for(user).filter(enterprise__in=own_enterprises(user))


# The actions a filing's page may offer, each with the transition it makes (``FILING_TRANSITIONS``).
FILING_ACTIONS = {"assign": "assign", "check": "record_check", "approve": "approve", "return": "return"}


def filing_actions(user, filing) -> set[str]:
    """What ``user`` may do to ``filing`` now: a handler of its district the steps its state allows
    (approving only after an on-site check that passed); its enterprise correcting it once returned.
    The page shows these and nothing else; the services check again."""
    acts = set()
    if user.has_perm("resumption.handle", filing):
        acts = {name for name, step in FILING_ACTIONS.items() if filing.status in FILING_TRANSITIONS[step][0]}
        if filing.check_result != CheckResult.PASSED:
            acts.discard("approve")
    if (filing.status in FILING_TRANSITIONS["resubmit"][0] and user.has_perm("resumption.file")
            and own_enterprises(user).filter(pk=filing.enterprise_id).exists()):
        acts.add("resubmit")
    return acts


def filings_awaiting_district(user):
    """The filings that wait for the user's district (its officers' queue: to assign, check or decide)."""
    return filings_for(user).filter(status__in=AWAITING_DISTRICT)


def filings_returned(user):
    """The user's own enterprises' filings sent back to be corrected."""
    return filings_for(user).filter(status=FilingStatus.RETURNED)


def reporting_on(day: dt.date) -> bool:
    """Whether enterprises are sending their daily checks around ``day`` (some report of that day or of the
    day before): outside the program's weeks, no one is asked for today's report."""
    return DailyCheck.objects.filter(day__in=[day, day - dt.timedelta(days=1)]).exists()


def unreported_own(user, day: dt.date):
    """The enterprises the user acts for that have not sent the daily check of ``day``."""
    return own_enterprises(user).exclude(pk__in=DailyCheck.objects.filter(day=day).values("enterprise_id"))


def inspectors_for(filing):
    return accounts_selectors.users().filter(role=Role.DISTRICT, district_id=filing.district_id, is_active=True).order_by("username")


def missing_reporters(user, day: dt.date):
    """Enterprises in the user's scope without a report for ``day``."""
    scope = figures_scope(user)
    if scope is None:
        return registry_selectors.enterprises().none()
    qs = registry_selectors.enterprises()
    if scope.district:
        qs = qs.filter(district_id=scope.district)
    return qs.exclude(pk__in=DailyCheck.objects.filter(day=day).values("enterprise_id")).order_by("district_id", "name")


# --- figures -----------------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the dashboard is narrowed to (from the URL): a district, industry section, size class, key flag."""
    district: str = ""
    industry: str = ""

    size: str = ""
    key: str = ""  # "1" key enterprises only, "0" the others

    def active(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class Scope:
    district: str = ""  # "" = the city
    filters: Filters = field(default_factory=Filters)


def figures_scope(user, filters: Filters | None = None) -> Scope | None:
    """The part of the city the user may see figures of (None: no figures at all). A district officer's
    filter on another district is replaced by its own."""
    role = role_of(user)
    filters = filters or Filters()
    if role in CITY_WIDE:
        return Scope(district=filters.district, filters=filters)
    if role == Role.DISTRICT:
        filters.district = user.district_id
        return Scope(district=user.district_id, filters=filters)
    return None


def _rollup(scope: Scope):
    qs = DailyRollup.objects.all()
    f = scope.filters
    if scope.district:
        qs = qs.filter(district_id=scope.district)
    if f.industry:
        qs = qs.filter(industry_section=f.industry)
    if f.size:
        qs = qs.filter(size_class=f.size)
    if f.key in ("0", "1"):
        qs = qs.filter(is_key=f.key == "1")
    return qs


def _population(scope: Scope, by: str | None) -> dict:
    """Enterprises in scope per group value (or under the key None), from the registry. Cached for a
    minute: the registry changes by imports, not by the second, and counting 200,000 rows on every
    dashboard request would cost more than the rollup itself."""
    f = scope.filters
    newest = registry_selectors.enterprises().aggregate(m=Max("id"))["m"]  # a new registry row makes a new key
    key = f"resumption.population:{newest}:{scope.district}:{f.industry}:{f.size}:{f.key}:{by}"
    found = cache.get(key)
    if found is not None:
        return found
    qs = registry_selectors.enterprises()
    if scope.district:
        qs = qs.filter(district_id=scope.district)
    if f.industry:
        qs = qs.filter(industry__section=f.industry)
    if f.size:
        qs = qs.filter(size_class=f.size)
    if f.key in ("0", "1"):
        qs = qs.filter(is_key_enterprise=f.key == "1")
    if by is None:
        result = {None: qs.count()}
    else:
        column = DIMENSIONS[by][1]
        result = {row[column]: row["n"] for row in qs.values(column).annotate(n=Count("id")).order_by()}
    cache.set(key, result, 60)
    return result


def _sum(qs) -> dict:
    return qs.aggregate(**{c: Sum(c) for c in SUMS})


def figures_for(scope: Scope, start: dt.date, end: dt.date | None = None) -> dict:
    """The headline figures of one day (or of the last day of a range)."""
    end = end or start
    return rules.figures(_sum(_rollup(scope).filter(day=end)), _population(scope, None)[None])


def groups_for(scope: Scope, day: dt.date, by: str) -> list[dict]:
    """The figures of ``day`` per value of a dimension, with every group of the registry listed."""
    column = DIMENSIONS[by][0]
    sums = {row[column]: row for row in _rollup(scope).filter(day=day).values(column)
            .annotate(**{c: Sum(c) for c in SUMS}).order_by()}
    population = _population(scope, by)
    labels = _labels(by)
    keys = sorted(set(population) | set(sums), key=lambda k: (str(k)))
    out = []
    for k in keys:
        row = rules.figures(sums.get(k, {}), population.get(k, 0))
        row["key"], row["label"] = k, str(labels.get(k, k))
        out.append(row)
    return out


def trend_for(scope: Scope, start: dt.date, end: dt.date) -> list[dict]:
    """The figures of each day of the range."""
    rows = {row["day"]: row for row in _rollup(scope).filter(day__gte=start, day__lte=end).values("day")
            .annotate(**{c: Sum(c) for c in SUMS}).order_by()}
    population = _population(scope, None)[None]
    out, day = [], start
    while day <= end:
        row = rules.figures(rows.get(day, {}), population)
        row["day"] = day
        out.append(row)
        day += dt.timedelta(days=1)
    return out


def _labels(by: str) -> dict:
    """The groups' names in the reader's language."""
    if by == "district":
        return {d["code"]: localized(d) for d in registry_selectors.districts().values("code", "name", "name_en")}
    if by == "industry":
        return {i["section"]: f"{i['section']} {localized(i)}" for i in
                registry_selectors.industries().filter(level="section").values("section", "name", "name_en")}
    if by == "size":
        return dict(registry_selectors.SIZE_CHOICES)
    return {True: _("重点企业"), False: _("非重点企业")}


def latest_day(scope: Scope) -> dt.date | None:
    return _rollup(scope).order_by("-day").values_list("day", flat=True).first()


def top_difficulties(scope: Scope, day: dt.date, limit: int = 7) -> list[dict]:
    qs = Difficulty.objects.filter(day=day)
    if scope.district:
        qs = qs.filter(district_id=scope.district)
    labels = dict(DifficultyKind.choices)
    rows = qs.values("kind").annotate(n=Count("id"), help=Count("id", filter=Q(needs_help=True))).order_by("-n", "kind")
    return [{"kind": r["kind"], "label": labels.get(r["kind"], r["kind"]), "count": r["n"], "help": r["help"]}
            for r in rows[:limit]]


def help_requests(scope: Scope, day: dt.date, limit: int | None = 200):
    """The day's difficulties that asked for help, in the scope (the first ``limit``; None: all)."""
    qs = Difficulty.objects.filter(day=day, needs_help=True).select_related("enterprise", "district")
    if scope.district:
        qs = qs.filter(district_id=scope.district)
    return qs.order_by("district_id", "enterprise__name", "kind")[:limit]



def filing_attachments_for(user):
    """The attachments of the filings the user may read."""
    return FilingAttachment.objects.filter(filing__in=filings_for(user))


def filing_switch_day() -> dt.date | None:
    """The day from which filing is no longer required (the latest such parameter), if one is set."""
    row = Parameter.objects.filter(key=FILING_REQUIRED_KEY, value=False).order_by("-effective_from").first()
    return row.effective_from if row else None

# --- the analysis report's PDFs ----------------------------------------------------------------------


def report_jobs_for(user, *, done: bool = False):
    """The analysis report PDF jobs the user asked for (``core.selectors.report_jobs``)."""
    return report_jobs(user, REPORT_KIND, done=done)
