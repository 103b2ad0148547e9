"""Return-to-work rules over plain values: the daily-check deadline and lock, the checks on a report's
figures, and the dashboard's rates. No ORM here."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

from huiqi.core import formats
from huiqi.core.errors import ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECK_FIELDS = ("staff_total", "staff_returned", "staff_on_site", "capacity_pct", "suspected_cases",
                "confirmed_cases")
# The largest count a column holds (a 32-bit integer on PostgreSQL): above it the database refuses the row.
MAX_COUNT = 2_147_483_647
# How far from the filing day a planned (or declared) resumption date may be.
PLANNED_WINDOW_DAYS = 366


class Problem:
    """A rule broken by an input: the field, a stable code, and the message (a msgid with params)."""

    def __init__(self, field: str, code: str, message, **params):
        self.field, self.code, self.message, self.params = field, code, message, params

    def error(self) -> ValidationFailed:
        return ValidationFailed(self.code, self.message, field=self.field, **self.params)

    def __repr__(self) -> str:
        return f"Problem({self.field!r}, {self.code!r})"


def _time(text: str) -> dt.time:
    hours, minutes = (int(x) for x in str(text).split(":"))
    return dt.time(hours, minutes)


def deadline_at(day: dt.date, config: dict) -> dt.datetime:
    """The moment a day's report is due (on time if first submitted by then)."""
    return dt.datetime.combine(day, _time(config["deadline"]), SHANGHAI)


def lock_at(day: dt.date, config: dict) -> dt.datetime:
    """The moment a day's report can no longer be corrected."""
    when = day + dt.timedelta(days=int(config.get("lock_days_after", 1)))
    return dt.datetime.combine(when, _time(config.get("lock_time", "00:00")), SHANGHAI)


def day_problem(day: dt.date, now: dt.datetime, config: dict) -> Problem | None:
    """Why a report for ``day`` cannot be written at ``now`` (future or locked), else None."""
    today = now.astimezone(SHANGHAI).date()
    if day > today:
        return Problem("day", "daily_check.future", _("不能填报未来日期（%(day)s）的排查"), day=day)
    if now >= lock_at(day, config):
        return Problem("day", "daily_check.locked", _("%(day)s 的排查已锁定，不能再填报或更正"), day=day)
    return None


def _too_large(name: str) -> Problem:
    return Problem(name, "count.too_large", _("数值过大，不能超过 %(max_count)s"), max_count=formats.count(MAX_COUNT))


def figure_problems(values: dict) -> list[Problem]:
    """Every broken rule of a report's figures (whole numbers, returned ≤ total, on site ≤ returned,
    capacity 0–100 %)."""
    problems = []
    for name in CHECK_FIELDS:
        v = values.get(name)
        if isinstance(v, int) and not isinstance(v, bool) and v > MAX_COUNT and name != "capacity_pct":
            problems.append(_too_large(name))
        elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
            if name == "capacity_pct":
                problems.append(Problem(name, "daily_check.capacity", _("产能恢复须为 0 到 100 之间的整数（%）")))
            else:
                problems.append(Problem(name, "daily_check.not_a_count", _("须为不小于 0 的整数")))
    if problems:
        return problems
    if values["capacity_pct"] > 100:
        problems.append(Problem("capacity_pct", "daily_check.capacity", _("产能恢复不能超过 100%")))
    if values["staff_returned"] > values["staff_total"]:
        problems.append(Problem("staff_returned", "daily_check.returned_above_total",
                                _("已返岗人数（%(staff_returned)s）不能超过员工总数（%(staff_total)s）"),
                                staff_returned=values["staff_returned"], staff_total=values["staff_total"]))
    if values["staff_on_site"] > values["staff_returned"]:
        problems.append(Problem("staff_on_site", "daily_check.on_site_above_returned", _("在岗人数不能超过已返岗人数")))
    if values.get("is_open") is False and values["capacity_pct"] > 0:
        problems.append(Problem("capacity_pct", "daily_check.capacity_closed", _("未开工企业的产能恢复应为 0%")))
    return problems


def filing_problems(values: dict) -> list[Problem]:
    """The workforce of a filing: whole numbers, returning ≤ total, outside and quarantine ≤ returning."""
    problems = []
    names = ("staff_total", "staff_returning", "staff_from_outside", "staff_in_quarantine", "masks",
             "thermometers", "disinfectant_litres")
    for name in names:
        v = values.get(name)
        if isinstance(v, int) and not isinstance(v, bool) and v > MAX_COUNT:
            problems.append(_too_large(name))
        elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
            problems.append(Problem(name, "filing.not_a_count", _("须为不小于 0 的整数")))
    if problems:
        return problems
    if values["staff_returning"] > values["staff_total"]:
        problems.append(Problem("staff_returning", "filing.returning_above_total", _("返岗人数不能超过员工总数")))
    for name, message in (("staff_from_outside", _("省外返深人数不能超过返岗人数")),
                          ("staff_in_quarantine", _("隔离观察人数不能超过返岗人数"))):
        if values[name] > values["staff_returning"]:
            problems.append(Problem(name, f"filing.{name}_above_returning", message))
    return problems


def planned_date_problem(planned: dt.date, today: dt.date, *, declared: bool = False) -> Problem | None:
    """A filing plans to resume from today on; a declaration says it has resumed, today or before. Either
    within ``PLANNED_WINDOW_DAYS`` of today."""
    window = dt.timedelta(days=PLANNED_WINDOW_DAYS)
    if declared:
        if planned > today:
            return Problem("planned_date", "filing.declared_in_future", _("复工日期不能晚于今天"))
        if planned < today - window:
            return Problem("planned_date", "filing.planned_date_range", _("复工日期不能早于 %(today)s"),
                           today=today - window)
        return None
    if planned < today:
        return Problem("planned_date", "filing.planned_in_past", _("计划复工日期不能早于今天"))
    if planned > today + window:
        return Problem("planned_date", "filing.planned_date_range", _("计划复工日期不能晚于 %(today)s"),
                       today=today + window)
    return None


# --- figures ----------------------------------------------------------------------------------------


def ratio(part, whole) -> Decimal | None:
    """part / whole as a percentage with one decimal (half up); None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def figures(sums: dict, in_scope: int) -> dict:
    """The dashboard's figures from the rollup's sums over a set of groups and the registry count."""
    reports = sums.get("reports") or 0
    open_count = sums.get("open_count") or 0
    return {
        "in_scope": in_scope,
        "reports": reports,
        "open": open_count,
        "resumption_rate": ratio(open_count, in_scope),
        "reporting_rate": ratio(reports, in_scope),
        "on_time_rate": ratio(sums.get("on_time") or 0, reports),
        "staff_total": sums.get("staff_total") or 0,
        "staff_returned": sums.get("staff_returned") or 0,
        "staff_on_site": sums.get("staff_on_site") or 0,
        "workers_rate": ratio(sums.get("staff_returned") or 0, sums.get("staff_total") or 0),
        "avg_capacity": (None if not open_count else
                         (Decimal(sums.get("capacity_sum") or 0) / open_count).quantize(Decimal("0.1"),
                                                                                        rounding=ROUND_HALF_UP)),
        "suspected_cases": sums.get("suspected_cases") or 0,
        "confirmed_cases": sums.get("confirmed_cases") or 0,
    }


def change(now, before) -> Decimal | None:
    """Percentage points (or units) gained since ``before``; None when either is missing."""
    if now is None or before is None:
        return None
    return Decimal(now) - Decimal(before)


def lagging(groups: list[dict], reference, key: str = "resumption_rate", limit: int = 5) -> list[dict]:
    """Groups whose ``key`` is below the reference figure, worst first."""
    if reference is None:
        return []
    below = [g for g in groups if g.get(key) is not None and g[key] < reference]
    return sorted(below, key=lambda g: (g[key], str(g.get("label", ""))))[:limit]
