"""Return-to-work pages: filing and its queue, daily checks, follow-ups, the dashboard and the analysis
report. Thin: reads through ``selectors`` (scoped), writes through ``services``; a refusal of a service is
shown on the page it came from, in Chinese and English, with a 4xx status."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiqi.core import clock, formats
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.formpages import Confirmation, confirmation, guide_context
from huiqi.core.forms import add_domain_error
from huiqi.core.workdays import add_working_days
from huiqi.core.i18n import localized
from huiqi.core.filters import apply
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.registry import selectors as registry_selectors

from . import report, rules, selectors, services
from .checklist import items_on
from .filters import (
    AWAITING_DISTRICT,
    FIRST_DAY,
    LAST_DAY,
    DailyCheckFilter,
    FilingFilter,
    FollowUpFilter,
    MissingReportFilter,
    known_district,
)
from .forms import AssignForm, CheckForm, DailyCheckForm, DecisionForm, DeclareForm, FilingForm, FollowUpForm
from .jobs import report_path
from .models import DifficultyKind, FilingStatus
from .site import GUIDES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(text: str | None, default: dt.date | None = None) -> dt.date | None:
    """A YYYY-MM-DD from the URL or a form, or ``default`` when it is missing, malformed or out of range."""
    try:
        day = dt.date.fromisoformat(text.strip()) if text else None
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return default
    return day


# --- landing ------------------------------------------------------------------------------------------


@login_required
def index(request):
    _require(request, "resumption.view")
    user, today = request.user, clock.today()
    context = {"today": today, "required": services.filing_required(today)}
    if user.role == "enterprise":
        rows = []
        for e in selectors.own_enterprises(user).order_by("name"):
            rows.append({"enterprise": e,
                         "filing": selectors.filings_for(user).filter(enterprise=e).first(),
                         "check": selectors.daily_checks_for(user).filter(enterprise=e, day=today).first()})
        context["rows"] = rows
        context["help_open"] = selectors.follow_ups_for(user).count()
        # The enterprise sees what it asked help with and what the district recorded.
        context["help_requests"] = list(selectors.follow_ups_for(user, open_only=False)[:20])
        return render(request, "resumption/index_enterprise.html", context)
    scope = selectors.figures_scope(user)
    context["queue"] = selectors.filings_for(user).filter(status__in=AWAITING_DISTRICT).count()
    context["follow_ups"] = selectors.follow_ups_for(user).count()
    # The latest day with reports (the demo's are in 2020), so the overview is never empty for no reason.
    context["day"] = min(today, selectors.latest_day(scope) or today)
    context["figures"] = selectors.figures_for(scope, context["day"])
    return render(request, "resumption/index.html", context)


# --- filings ------------------------------------------------------------------------------------------


@login_required
def filing_list(request):
    _require(request, "resumption.view")
    qs, f = apply(FilingFilter, request, selectors.filings_for(request.user))
    city_wide = request.user.role not in ("district", "enterprise")
    district = known_district(f["district"]) if city_wide else ""
    page, query = paginate(request, qs.order_by("-submitted_at", "-id"))
    return render(request, "resumption/filing_list.html",
                  {"page": page, "query": query, "status": f["status"], "q": f["q"][:100],
                   "statuses": FilingStatus.choices,
                   "district": district, "districts": registry_selectors.districts() if city_wide else []})


def _filing_form(request, items, data=None, files=None, initial=None):
    return FilingForm(data, files, items=items, initial=initial)


def _form_values(form) -> dict:
    d = dict(form.cleaned_data)
    d.pop("attachments", None)
    return d


@login_required
def filing_new(request):
    """File to resume (while filing is required), or declare having resumed (after the switch). The guide
    comes first; a filing made leads to its confirmation."""
    _require(request, "resumption.file")
    today = clock.today()
    required = services.filing_required(today)
    enterprises = list(selectors.own_enterprises(request.user).order_by("name"))
    if not enterprises:
        raise PermissionDenied
    chosen = request.POST.get("enterprise") or request.GET.get("enterprise") or enterprises[0].uscc
    items = items_on(today)
    status = 200
    if required:
        form = _filing_form(request, items, request.POST or None, request.FILES or None,
                            initial={"checklist": [i.code for i in items]})
    else:
        form = DeclareForm(request.POST or None, initial={"planned_date": today})
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                if required:
                    filing = services.submit_filing(request.user, chosen, _form_values(form),
                                                    attachments=form.cleaned_data["attachments"])
                else:
                    filing = services.declare_resumed(request.user, chosen, form.cleaned_data)
                return redirect("resumption:filing_submitted", pk=filing.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    guide = guide_context(GUIDES["resumption.filing" if required else "resumption.declare"], form, today=today)
    return render(request, "resumption/filing_form.html",
                  {"form": form, "required": required, "enterprises": enterprises, "chosen": chosen,
                   "items": items, "switch_day": selectors.filing_switch_day(), **guide}, status=status)


@login_required
def filing_submitted(request, pk):
    """The confirmation of a filing just made or corrected (its enterprise's only): its number, what the
    district does next, and by when."""
    _require(request, "resumption.file")
    filing = get_object_or_404(selectors.own_filings(request.user), pk=pk)
    view = reverse("resumption:filing_detail", args=[filing.pk])
    if filing.status == FilingStatus.DECLARED:
        done = Confirmation(title=_("已申报复工"), reference=f"#{filing.pk}", view_url=view,
                            view_label=_("查看申报"),
                            next=[_("无需等待核查，可按申报的日期复工。"),
                                  _("复工后请每天填报每日排查。")])
        return confirmation(request, done)
    submitted_on = formats.to_beijing(filing.submitted_at).date()
    days = services.filing_check_days(submitted_on)
    try:
        by = add_working_days(submitted_on, days)
    except DomainError:  # no working-day calendar for that year: the guide's days are still said
        by = None
    done = Confirmation(
        title=_("复工报备已提交"), reference=f"#{filing.pk}", view_url=view, view_label=_("查看报备和办理进度"),
        by=by, by_label=_("预计核查答复日期"),
        facts=[(_("企业"), filing.enterprise.name), (_("所属区"), localized(filing.district)),
               (_("计划复工日期"), filing.planned_date.isoformat())],
        next=[_("区复工专班指派核查员到企业现场核查。"),
              _("区复工专班在 %(days)s 个工作日内答复：同意复工，或退回并说明需要整改之处。") % {"days": days},
              _("办理进度和结果会显示在报备页面上。")])
    return confirmation(request, done)


@login_required
def filing_detail(request, pk):
    """A filing, its check and its history, with the actions the reader may take on it now (and only
    those: ``selectors.filing_actions``)."""
    _require(request, "resumption.view")
    filing = get_object_or_404(selectors.filings_for(request.user), pk=pk)
    status = 200
    forms = {"assign": AssignForm(inspectors=selectors.inspectors_for(filing)), "check": CheckForm(),
             "decision": DecisionForm()}
    if request.method == "POST":
        _require(request, "resumption.handle")
        action = request.POST.get("action", "")
        if action not in selectors.FILING_ACTIONS:
            raise Http404
        form = None
        try:
            if action == "assign":
                form = forms["assign"] = AssignForm(request.POST, inspectors=selectors.inspectors_for(filing))
                if form.is_valid():
                    inspector = selectors.inspectors_for(filing).filter(pk=form.cleaned_data["inspector"]).first()
                    services.assign_inspector(request.user, filing, inspector)
                    messages.success(request, _("已指派核查员。"))
                    return redirect("resumption:filing_detail", pk=pk)
            elif action == "check":
                form = forms["check"] = CheckForm(request.POST, request.FILES)
                if form.is_valid():
                    services.record_check(request.user, filing, form.cleaned_data["check_result"],
                                          form.cleaned_data["check_findings"], form.cleaned_data["photos"])
                    messages.success(request, _("已记录现场核查。"))
                    return redirect("resumption:filing_detail", pk=pk)
            else:
                form = forms["decision"] = DecisionForm(request.POST)
                if form.is_valid():
                    if action == "approve":
                        services.approve_filing(request.user, filing, form.cleaned_data["note"])
                        messages.success(request, _("已同意复工。"))
                    else:
                        services.return_filing(request.user, filing, form.cleaned_data["note"])
                        messages.success(request, _("已退回企业整改。"))
                    return redirect("resumption:filing_detail", pk=pk)
            status = 400
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status
        filing = get_object_or_404(selectors.filings_for(request.user), pk=pk)
    return render(request, "resumption/filing_detail.html",
                  {"filing": filing, "events": filing.events.all(), "attachments": filing.attachments.all(),
                   "forms": forms, "failed": next((f for f in forms.values() if f.errors), None),
                   "acts": selectors.filing_actions(request.user, filing)},
                  status=status)


@login_required
def filing_edit(request, pk):
    """Correct a returned filing and submit it again."""
    _require(request, "resumption.file")
    filing = get_object_or_404(selectors.filings_for(request.user), pk=pk)
    today = clock.today()
    items = items_on(today)
    initial = {name: getattr(filing, name) for name in services.FILING_NUMBERS}
    initial.update(planned_date=filing.planned_date, contact_name=filing.contact_name,
                   contact_phone=filing.contact_phone,
                   checklist=[i["code"] for i in filing.checklist if i.get("checked")])
    form = _filing_form(request, items, request.POST or None, request.FILES or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.resubmit_filing(request.user, filing, _form_values(form),
                                         attachments=form.cleaned_data["attachments"])
                return redirect("resumption:filing_submitted", pk=pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    return render(request, "resumption/filing_form.html",
                  {"form": form, "required": True, "filing": filing, "items": items,
                   "returned": filing.status == FilingStatus.RETURNED}, status=status)


@login_required
def attachment(request, pk):
    _require(request, "resumption.view")
    att = get_object_or_404(selectors.filing_attachments_for(request.user), pk=pk)
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, content_type=att.content_type, filename=att.name,
                        as_attachment=att.content_type == "application/pdf")


# --- daily checks -------------------------------------------------------------------------------------


@login_required
def check_form(request):
    _require(request, "resumption.report_daily")
    enterprises = list(selectors.own_enterprises(request.user).order_by("name"))
    if not enterprises:
        raise PermissionDenied
    chosen = request.POST.get("enterprise") or request.GET.get("enterprise") or enterprises[0].uscc
    day = _day(request.POST.get("day") or request.GET.get("day"), clock.today())
    existing = selectors.daily_checks_for(request.user).filter(enterprise__uscc=chosen, day=day).first()
    initial = {"day": day}
    if existing:
        initial.update({k: getattr(existing, k) for k in ("staff_total", "staff_returned", "staff_on_site",
                                                          "capacity_pct", "suspected_cases", "confirmed_cases")})
        initial["is_open"] = "1" if existing.is_open else "0"
        for d in existing.difficulties.all():
            initial.update({f"difficulty_{d.kind}": True, f"note_{d.kind}": d.note, f"help_{d.kind}": d.needs_help})
    form = DailyCheckForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                check, created = services.submit_daily_check(request.user, chosen, form.cleaned_data["day"],
                                                             form.values(), form.difficulties())
                return redirect("resumption:check_submitted", pk=check.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    config = services.daily_check_config(day)
    recent = selectors.daily_checks_for(request.user).filter(enterprise__uscc=chosen).order_by("-day")[:10]
    return render(request, "resumption/check_form.html",
                  {"form": form, "enterprises": enterprises, "chosen": chosen, "existing": existing,
                   "deadline": rules.deadline_at(day, config), "lock": rules.lock_at(day, config), "recent": recent,
                   **guide_context(GUIDES["resumption.daily_check"], form, today=day)},
                  status=status)


@login_required
def check_submitted(request, pk):
    """The confirmation of a daily check reported or corrected (its enterprise's only)."""
    _require(request, "resumption.report_daily")
    check = get_object_or_404(selectors.own_daily_checks(request.user), pk=pk)
    lock = rules.lock_at(check.day, services.daily_check_config(check.day))
    again = f"{reverse('resumption:check_form')}?enterprise={check.enterprise.uscc}&day={check.day.isoformat()}"
    done = Confirmation(
        title=_("每日排查已报送"), reference=f"{check.enterprise.uscc} · {check.day.isoformat()}",
        view_url=again, view_label=_("查看或更正本次填报"), by=formats.to_beijing(lock), by_label=_("可更正至"),
        facts=[(_("企业"), check.enterprise.name), (_("排查日期"), check.day.isoformat()),
               (_("报送时间"), formats.beijing(check.submitted_at)),
               (_("按时"), _("是") if check.on_time else _("否"))],
        next=[_("本次填报已计入所在区的复工统计。"),
              _("勾选了“需要协调”的困难，所在区复工专班会跟进，跟进情况可在“我的复工”查看。"),
              _("锁定前可以更正；锁定后如需更正，请联系所在区复工专班。")])
    return confirmation(request, done)


@login_required
def check_list(request):
    """A day's reports in the officer's scope, or (?missing=1) who has not reported; the day's rates."""
    _require(request, "resumption.view_figures")
    scope = selectors.figures_scope(request.user)
    today = clock.today()
    day = _day(request.GET.get("day"), min(today, selectors.latest_day(scope) or today))
    missing = request.GET.get("missing") == "1"
    city_wide = request.user.role != "district"
    district = known_district(request.GET.get("district")) if city_wide else ""
    if missing:
        qs, f = apply(MissingReportFilter, request, selectors.missing_reporters(request.user, day)
                      .select_related("district"))
    else:
        data = request.GET.copy()
        data["day"] = day.isoformat()  # the page's day: the one asked for, else the latest with reports
        qs, f = apply(DailyCheckFilter, request, selectors.daily_checks_for(request.user).select_related("district")
                      .order_by("district_id", "enterprise__name"), data=data)
    if district:
        scope = selectors.figures_scope(request.user, selectors.Filters(district=district))
    q = f["q"][:100]
    if request.GET.get("format") == "xlsx":
        return _check_list_xlsx(qs, day, missing)
    page, query = paginate(request, qs)
    query_all = request.GET.copy()
    for k in ("page", "format"):
        query_all.pop(k, None)
    return render(request, "resumption/check_list.html",
                  {"page": page, "query": query, "day": day, "missing": missing, "q": q, "district": district,
                   "export_query": query_all.urlencode(),
                   "districts": registry_selectors.districts() if city_wide else [],
                   "figures": selectors.figures_for(scope, day)})


# Excel stops at 1,048,576 rows (the header takes one).
XLSX_MAX_ROWS = 1_048_575


def _check_list_xlsx(qs, day, missing):
    """The list as shown (every page), for the district to telephone who has not reported."""
    import xlsxwriter

    def write(path):
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
        ws = wb.add_worksheet(str(day))
        moment = wb.add_format({"num_format": formats.XLSX_DATETIME})
        if missing:
            ws.write_row(0, 0, [str(h) for h in (_("企业"), _("统一社会信用代码"), _("区"))])
            rows = ([e.name, e.uscc, localized(e.district)] for e in qs[:XLSX_MAX_ROWS].iterator(chunk_size=2000))
        else:
            ws.write_row(0, 0, [str(h) for h in (_("企业"), _("统一社会信用代码"), _("区"), _("开工"), _("员工总数"),
                                                 _("已返岗"), _("在岗"), _("产能(%)"), _("按时"), _("报送时间"))])
            yes, no = str(_("是")), str(_("否"))
            rows = ([c.enterprise.name, c.enterprise.uscc, localized(c.district), yes if c.is_open else no,
                     c.staff_total, c.staff_returned, c.staff_on_site, c.capacity_pct, yes if c.on_time else no,
                     formats.to_beijing(c.submitted_at).replace(tzinfo=None)]
                    for c in qs[:XLSX_MAX_ROWS].iterator(chunk_size=2000))
        for r, row in enumerate(rows, start=1):
            ws.write_row(r, 0, row[:9] if not missing else row)
            if not missing:
                ws.write_datetime(r, 9, row[9], moment)  # the time of the report, in Beijing time
        wb.close()

    name = f"resumption-{'missing' if missing else 'checks'}-{day}.xlsx"
    return file_download(write, name, content_type=XLSX)


@login_required
def follow_ups(request):
    _require(request, "resumption.view_figures")
    error, status = None, 200
    if request.method == "POST":
        _require(request, "resumption.handle")
        form = FollowUpForm(request.POST)
        status = 400
        if form.is_valid():
            difficulty = selectors.difficulties_for(request.user).filter(pk=form.cleaned_data["difficulty"]).first()
            if difficulty is None:
                raise Http404
            try:
                services.follow_up(request.user, difficulty, form.cleaned_data["note"])
                messages.success(request, _("已记录跟进情况。"))
                return redirect(request.get_full_path())
            except DomainError as exc:
                error, status = exc, exc.status
    show_all = request.GET.get("all") == "1"
    filterset = FollowUpFilter(request.GET, queryset=selectors.follow_ups_for(request.user, open_only=not show_all),
                               request=request)
    page, query = paginate(request, filterset.qs)
    typed = filterset.form.cleaned_data
    kind, q, day = typed.get("kind") or "", (typed.get("q") or "")[:100], typed.get("day")
    return render(request, "resumption/follow_ups.html",
                  {"page": page, "query": query, "show_all": show_all, "error": error, "kind": kind, "q": q, "day": day,
                   "kinds": DifficultyKind.choices,
                   "may_handle": request.user.has_perm("resumption.handle")}, status=status)


# --- dashboard ----------------------------------------------------------------------------------------

BY = (("district", gettext_lazy("按区")), ("industry", gettext_lazy("按行业门类")), ("size", gettext_lazy("按企业规模")),
      ("key", gettext_lazy("重点企业")))


def _dashboard_scope(request):
    _require(request, "resumption.view_figures")
    g = request.GET
    size = g.get("size", "")
    filters = selectors.Filters(district=known_district(g.get("district")), industry=g.get("industry", "")[:1],
                                size=size if size in registry_selectors.SIZE_VALUES else "",
                                key=g.get("key", "") if g.get("key") in ("0", "1") else "")
    scope = selectors.figures_scope(request.user, filters)
    latest = selectors.latest_day(scope) or clock.today()
    end = _day(g.get("day") or g.get("end"), latest)
    start = _day(g.get("start"), end - dt.timedelta(days=29))
    if start > end:
        start, end = end, start
    if (end - start).days > 366:
        start = end - dt.timedelta(days=366)
    return scope, start, end


def _dashboard_data(scope, start, end) -> dict:
    groups = {by: selectors.groups_for(scope, end, by) for by, _label in BY}
    trend = selectors.trend_for(scope, start, end)
    return {"figures": selectors.figures_for(scope, end), "groups": groups, "trend": trend}


@login_required
def dashboard(request):
    scope, start, end = _dashboard_scope(request)
    data = _dashboard_data(scope, start, end)
    trend_chart = {"labels": [t["day"].isoformat() for t in data["trend"]], "unit": "%",
                   "series": [{"name": _("复工率"), "data": [str(t["resumption_rate"] or 0) for t in data["trend"]]},
                              {"name": _("员工返岗率"), "data": [str(t["workers_rate"] or 0) for t in data["trend"]]},
                              {"name": _("平均产能"), "data": [str(t["avg_capacity"] or 0) for t in data["trend"]]}]}
    group_charts = {by: {"labels": [str(g["label"]) for g in rows], "unit": "%",
                         "series": [{"name": _("复工率"), "data": [str(g["resumption_rate"] or 0) for g in rows]}]}
                    for by, rows in data["groups"].items()}
    query = request.GET.urlencode()
    return render(request, "resumption/dashboard.html",
                  {**data, "start": start, "end": end, "scope": scope, "f": scope.filters, "by": BY,
                   "trend_chart": trend_chart, "group_charts": group_charts, "query": query,
                   "districts": registry_selectors.districts() if not request.user.role == "district" else [],
                   "sections": registry_selectors.industries().filter(level="section").order_by("code"),
                   "sizes": registry_selectors.SIZE_CHOICES})


@login_required
def dashboard_export(request):
    scope, start, end = _dashboard_scope(request)
    data = _dashboard_data(scope, start, end)
    import xlsxwriter

    # In memory: a few small sheets, and no temporary file left behind per download.
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    head = [str(h) for h in (_("分组"), _("纳入企业"), _("填报"), _("已开工"), _("复工率(%)"), _("员工总数"),
                              _("已返岗"), _("返岗率(%)"), _("平均产能(%)"), _("按时率(%)"))]
    keys = ["in_scope", "reports", "open", "resumption_rate", "staff_total", "staff_returned", "workers_rate",
            "avg_capacity", "on_time_rate"]

    day_cell = wb.add_format({"num_format": formats.XLSX_DATE})
    count_cell = wb.add_format({"num_format": formats.XLSX_COUNT})
    rate_cell = wb.add_format({"num_format": formats.xlsx_number_format(1)})  # rates: one place (rules.ratio)

    def put(ws, r, row):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), day_cell)
            elif isinstance(v, Decimal):
                ws.write_number(r, c, float(v), rate_cell)
            elif isinstance(v, int) and not isinstance(v, bool):
                ws.write_number(r, c, v, count_cell)
            else:
                ws.write(r, c, v)

    ws = wb.add_worksheet(str(_("走势")))
    ws.write_row(0, 0, [str(_("日期")), *head[1:]])
    for r, t in enumerate(data["trend"], 1):
        put(ws, r, [t["day"], *(t[k] for k in keys)])
    for by, label in BY:
        ws = wb.add_worksheet(str(label)[:31])
        ws.write_row(0, 0, head)
        for r, g in enumerate(data["groups"][by], 1):
            put(ws, r, [str(g["label"]), *(g[k] for k in keys)])
    wb.close()
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"resumption-{start}-{end}.xlsx",
                        content_type=XLSX)


# --- the analysis report --------------------------------------------------------------------------------


def _report_scope(request):
    _require(request, "resumption.view_figures")
    scope = selectors.figures_scope(request.user, selectors.Filters(district=known_district(request.GET.get("district"))))
    day = _day(request.GET.get("day") or request.POST.get("day"), selectors.latest_day(scope) or clock.today())
    return scope, day


@login_required
def report_page(request):
    scope, day = _report_scope(request)
    if request.method == "POST":
        job = services.start_report_pdf(request.user, scope, day)
        messages.success(request, _("PDF 正在后台生成，完成后可在任务页下载。"))
        return redirect("core:job_detail", pk=job.pk)
    data = report.build(scope, day)
    recent = selectors.report_jobs_for(request.user)[:5]
    return render(request, "resumption/report.html", {**data, "scope": scope, "recent": recent,
                                                      "query": request.GET.urlencode(),
                                                      "districts": registry_selectors.districts()
                                                      if request.user.role != "district" else []})


@login_required
def report_xlsx(request):
    scope, day = _report_scope(request)
    data = report.build(scope, day)
    return file_download(lambda path: report.write_xlsx(data, path), f"resumption-report-{day}.xlsx",
                         content_type=XLSX)


@login_required
def report_pdf(request, job):
    """The PDF a report job wrote: its own user's (and administrators')."""
    _require(request, "resumption.view_figures")
    found = get_object_or_404(selectors.report_jobs_for(request.user, done=True), pk=job)
    path = report_path(found.pk)
    if not path.is_file() or not str(path.resolve()).startswith(str(Path(settings.MEDIA_ROOT).resolve())):
        raise Http404
    day = (found.params or {}).get("day", "")
    return FileResponse(open(path, "rb"), content_type="application/pdf", as_attachment=True,
                        filename=f"resumption-report-{day}.pdf")
