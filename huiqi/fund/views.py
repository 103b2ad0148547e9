"""The fund's pages: the bureau's funnel (with the seed's line from data, charts and a workbook), a channel's
(or an enterprise's own) applications with their clocks, an application's detail with the actions the
reader may take now, and registering an application with its guide and confirmation."""

from __future__ import annotations

import datetime as dt
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

from huiqi.accounts.selectors import Role, role_of
from huiqi.core import clock, formats
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError, NotFound
from huiqi.core.formpages import Confirmation, confirmation, guide_context
from huiqi.core.forms import add_domain_error
from huiqi.core.money import fen_to_yuan
from huiqi.core.pagination import paginate_counted
from huiqi.core.permissions import require_page as _require
from huiqi.core.tabular import write_rows
from . import forms, report, rules, selectors, services
from .jobs import report_path
from .models import Application


def _as_of(request) -> dt.date:
    try:
        day = dt.date.fromisoformat(request.GET.get("on", "").strip())
    except ValueError:
        return clock.today()
    return day if rules.EARLIEST <= day <= rules.LATEST else clock.today()


def _label(mapping, code):
    return str(mapping.get(code, code)) if code else ""


@login_required
def index(request):
    """The bureau's funnel (a POST queues its PDF); a channel's staff and an enterprise go to their
    applications."""
    _require(request, "fund.view")
    if request.method == "POST":
        _require(request, "fund.report")
        on = _as_of_posted(request)
        try:
            job = services.start_funnel_pdf(request.user, on)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(reverse("fund:index"))
        messages.success(request, _("PDF 正在后台生成，完成后可在任务页下载。"))
        return redirect("core:job_detail", pk=job.pk)
    if not request.user.has_perm("fund.report"):
        return application_list(request)
    return render(request, "fund/funnel.html", {**_funnel(request),
                                                "recent": selectors.funnel_jobs_for(request.user)[:5]})


def _as_of_posted(request) -> dt.date:
    try:
        return dt.date.fromisoformat(request.POST.get("on", "").strip())
    except ValueError:
        return clock.today()


def _funnel(request) -> dict:
    data = report.build(request.user, _as_of(request))
    rows = data["rows"][:-1]
    labels = [name for name, _r in rows]
    chart = {"labels": labels, "unit": _("家"),
             "series": [{"name": _("申请企业"), "data": [r.enterprises_applied for _n, r in rows]},
                        {"name": _("获决策支持企业"), "data": [r.enterprises_decided for _n, r in rows]},
                        {"name": _("已放款企业"), "data": [r.enterprises_disbursed for _n, r in rows]}]}
    amounts = {"labels": labels, "unit": _("亿元"),
               "series": [{"name": _("决策金额"), "data": [str(formats.yi(r.amount_decided_fen)) for _n, r in rows]},
                          {"name": _("放款金额"), "data": [str(formats.yi(r.amount_disbursed_fen)) for _n, r in rows]}]}
    return {**data, "chart": chart, "amounts": amounts}


@login_required
def funnel_export(request):
    """The funnel as a workbook, in the reader's language: per channel, district and industry section."""
    _require(request, "fund.report")
    f = report.build(request.user, _as_of(request))
    header = [_("范围"), _("申请企业（家）"), _("获决策支持企业（家）"), _("决策金额（万元）"), _("已放款企业（家）"),
              _("放款金额（万元）")]

    def line(name, r):
        return (name, r.enterprises_applied, r.enterprises_decided, fen_to_yuan(r.amount_decided_fen) / 10000,
                r.enterprises_disbursed, fen_to_yuan(r.amount_disbursed_fen) / 10000)

    rows = [*(line(n, r) for n, r in f["rows"]), *(line(n, r) for n, r in f["by_district"]),
            *(line(n, r) for n, r in f["by_industry"]), (f["line"],)]
    return file_download(lambda path: write_rows(path, header, rows), f"fund-funnel-{f['on']}.xlsx")


@login_required
def funnel_pdf(request, job):
    """The PDF a funnel job wrote: its own user's (and administrators')."""
    _require(request, "fund.report")
    found = get_object_or_404(selectors.funnel_jobs_for(request.user, done=True), pk=job)
    path = report_path(found.pk)
    if not path.is_file() or not str(path.resolve()).startswith(str(Path(settings.MEDIA_ROOT).resolve())):
        raise Http404
    return FileResponse(open(path, "rb"), content_type="application/pdf", as_attachment=True,
                        filename=f"fund-funnel-{(found.params or {}).get('on', '')}.pdf")


# --- applications ---------------------------------------------------------------------------------------

def _applications(request):
    qs = selectors.applications_for(request.user)
    state, channel, q = (request.GET.get(k, "").strip() for k in ("state", "channel", "q"))
    if state == "live":
        qs = qs.filter(state__in=rules.LIVE_STATES)
    elif state in rules.STATES:
        qs = qs.filter(state=state)
    if channel:
        qs = qs.filter(channel=channel)
    if q:
        qs = qs.filter(number__icontains=q) | qs.filter(uscc__icontains=q) | qs.filter(enterprise__name__icontains=q)
    overdue = request.GET.get("overdue") == "1"
    if overdue:  # the ageing list: live applications past their open stage's due day
        qs = selectors.overdue_for(request.user, clock.today(), qs)
    if request.GET.get("to_confirm") == "1":  # what waits for this reader's approval: never their own proposal
        qs = qs.filter(state="decision").exclude(proposed_outcome="").exclude(proposed_by=request.user)
    return qs.order_by("-priority", "-received_date", "-id"), {"state": state, "channel": channel, "q": q,
                                                               "overdue": overdue}


_LIST_COLUMNS = ("id", "number", "uscc", "enterprise_id", "channel", "received_date", "requested_fen", "state",
                 "reasons", "priority")


@login_required
def application_list(request):
    """Applications with the open stage's clock: priority first, overdue highlighted (``overdue=1``: only
    the live ones past their due day, the ageing list)."""
    _require(request, "fund.view")
    qs, f = _applications(request)
    on = clock.today()
    # One statement for the page and its count (the ageing filter is an EXISTS over the stages), with no join:
    # the page's 25 enterprises are read after it, by their keys, not all the list's before the sort. Only the
    # columns the page shows are read, so the rows counted and sorted are narrow.
    page, query = paginate_counted(request, qs.select_related(None).only(*_LIST_COLUMNS)
                                   .prefetch_related("enterprise"))
    clocks = selectors.open_clocks(list(page.object_list), on)
    names = {code: name for code, (name, _institution) in rules.CHANNELS.items()}
    rows = [{"app": a, "clock": clocks.get(a.pk), "reason": _label(rules.PRECHECK_REASONS, a.first_reason),
             "channel": names.get(a.channel, a.channel)} for a in page.object_list]
    return render(request, "fund/list.html", {
        "page": page, "query": query, "f": f, "rows": rows, "states": list(rules.STATES.items()),
        "channels": [{"code": code, "name": name} for code, (name, _i) in rules.CHANNELS.items()], "on": on,
        "stages": rules.STAGES})


@login_required
def application_export(request, fmt):
    _require(request, "fund.view")
    if fmt not in ("csv", "xlsx"):
        raise NotFound("fund.format", _("只能导出 CSV 或 XLSX"))
    qs, _f = _applications(request)
    names = {code: name for code, (name, _institution) in rules.CHANNELS.items()}
    headers = [_("申请编号"), _("统一社会信用代码"), _("企业名称"), _("渠道"), _("受理日期"), _("申请金额（元）"),
               _("状态"), _("预审未通过原因"), _("优先支持"), _("批准金额（元）"), _("年利率"), _("已放款（元）")]
    rows = ((a.number, a.uscc, a.enterprise.name if a.enterprise else "", names.get(a.channel, a.channel),
             a.received_date,
             fen_to_yuan(a.requested_fen), a.get_state_display(), _label(rules.PRECHECK_REASONS, a.first_reason),
             _("是") if a.priority else _("否"), fen_to_yuan(a.approved_fen), a.rate, fen_to_yuan(a.disbursed_fen))
            for a in qs.iterator())
    return file_download(lambda path: write_rows(path, headers, rows), f"fund-applications.{fmt}")


@login_required
def application_new(request):
    """A channel registers an application, or an enterprise applies online: the guide, the form, the
    confirmation."""
    _require(request, "fund.register")
    from .site import GUIDES

    p = selectors.params_on(clock.today())
    user = request.user
    online = role_of(user) == Role.ENTERPRISE
    channels = p.channels
    if role_of(user) == Role.INSTITUTION:
        channels = [c for c in p.channels if c.institution == user.institution.code]
    form = forms.ApplicationForm(request.POST or None, channels=channels,
                                 enterprises=list(user.enterprises.all()) if online else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                app = services.register(user, services.ApplicationInput(
                    uscc=d["uscc"], channel=d["channel"], requested_fen=d["amount"], term_months=d["term_months"],
                    received_date=clock.today() if online else d["received_date"], impact=d["impact"],
                    purpose=d["purpose"], source=Application.Source.ONLINE if online else Application.Source.PAGE))
                return redirect("fund:registered", pk=app.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    return render(request, "fund/form.html", {"form": form, **guide_context(GUIDES["fund.apply"], form)},
                  status=status)


@login_required
def registered(request, pk):
    _require(request, "fund.register")
    app = _get(request, pk)
    clocks = selectors.clocks(app, clock.today())
    open_clock = next((c for c in clocks if c.done is None), None)
    done = Confirmation(
        title=_("基金申请已受理"), reference=app.number,
        view_url=reverse("fund:detail", args=[app.pk]), view_label=_("查看申请和办理进度"),
        by=open_clock.due if open_clock else None, by_label=_("资格预审完成时限"),
        facts=[(_("渠道"), app.institution), (_("申请金额（元）"), formats.yuan(app.requested_fen)),
               (_("状态"), app.get_state_display())]
        + ([(_("预审未通过原因"), "；".join(_label(rules.PRECHECK_REASONS, r) for r in app.reasons))] if app.reasons else []),
        next=[_("渠道对申请进行资格预审和尽职调查，需要补充材料时会联系企业（等待期间暂停计时）。"),
              _("渠道经办人提出决策意见，由另一位工作人员复核批准；批准后签约、放款。")])
    return confirmation(request, done)


def _get(request, pk) -> Application:
    try:
        return selectors.application_for(request.user, pk)
    except Application.DoesNotExist:
        raise Http404 from None


def _actions(request, app: Application) -> dict:
    """The actions the reader may take on the application now, each with its form."""
    user, out = request.user, {}
    p = selectors.params_on(clock.today())
    handle = user.has_perm("fund.handle", app)
    if handle and app.state == "received":
        out["rerun"] = forms.ResumeForm()
    if handle and app.state == "prechecked":
        out["due_diligence"] = forms.AdvanceForm()
    if handle and app.state == "due_diligence":
        out["decision"] = forms.AdvanceForm()
    if handle and app.state in rules.LIVE_STATES:
        stage = selectors.open_stage(app)
        if stage is not None and stage.paused_since is None:
            out["pause"] = forms.PauseForm()
        elif stage is not None:
            out["resume"] = forms.ResumeForm()
    if app.state == "decision" and user.has_perm("fund.decide", app):
        if not app.proposed_outcome or app.proposed_by_id == user.pk:
            out["propose"] = forms.ProposeForm()
        if app.proposed_outcome and app.proposed_by_id != user.pk:
            out["confirm"] = forms.ConfirmForm()
    if user.has_perm("fund.disburse", app):
        if app.state == "approved":
            out["contract"] = forms.ContractForm()
        if app.state in ("contracted", "disbursing"):
            out["tranche"] = forms.TrancheForm()
            out["cancel_rest"] = forms.CancelRestForm()
        if app.state in ("disbursing", "disbursed"):
            out["repayment"] = forms.RepaymentForm()
            if app.maturity_date is not None:
                out["extend"] = forms.ExtendForm()
        if app.state == "disbursed":
            out["close"] = forms.CloseForm()
    if app.state in rules.LIVE_STATES and user.has_perm("fund.withdraw", app):
        out["withdraw"] = forms.WithdrawForm()
        out["transfer"] = forms.TransferForm(channels=[c for c in p.channels if c.code != app.channel])
    if app.state in rules.LIVE_STATES and not app.priority and user.has_perm("fund.set_priority", app):
        out["priority"] = forms.PriorityForm()
    return out


# Lazy: the titles are read in the language of each request, not the one the module was imported in.
ACTION_TITLES = {
    "rerun": gettext_lazy("重新预审"), "due_diligence": gettext_lazy("开始尽职调查"),
    "decision": gettext_lazy("提交决策"), "pause": gettext_lazy("暂停计时"), "resume": gettext_lazy("恢复计时"),
    "propose": gettext_lazy("提出决策意见"), "confirm": gettext_lazy("复核批准"), "contract": gettext_lazy("签订合同"),
    "tranche": gettext_lazy("放款"), "cancel_rest": gettext_lazy("取消未放款部分"), "repayment": gettext_lazy("登记还款"),
    "withdraw": gettext_lazy("撤回申请"), "transfer": gettext_lazy("转至另一渠道"),
    "priority": gettext_lazy("设为优先支持"), "extend": gettext_lazy("展期"), "close": gettext_lazy("结清"),
}


def _do(user, app, action, d):
    if action == "rerun":
        return services.rerun_precheck(user, app, day=d["day"])
    if action in ("due_diligence", "decision"):
        return services.advance(user, app, action, day=d["day"], note=d["note"])
    if action == "pause":
        return services.pause(user, app, day=d["day"], note=d["note"])
    if action == "resume":
        return services.resume(user, app, day=d["day"])
    if action == "propose":
        return services.propose_decision(user, app, outcome=d["outcome"], amount_fen=d["amount"], rate=d["rate"],
                                         term_months=d["term_months"], reason=d["reason"], note=d["note"])
    if action == "confirm":
        return services.confirm_decision(user, app, day=d["day"], note=d["note"])
    if action == "contract":
        return services.sign_contract(user, app, day=d["day"])
    if action == "tranche":
        return services.add_tranche(user, app, day=d["day"], amount_fen=d["amount"])
    if action == "cancel_rest":
        return services.cancel_rest(user, app, day=d["day"], note=d["note"])
    if action == "repayment":
        return services.record_repayment(user, app, day=d["day"], kind=d["kind"], amount_fen=d["amount"])
    if action == "withdraw":
        return services.withdraw(user, app, day=d["day"], note=d["note"])
    if action == "transfer":
        return services.transfer(user, app, channel=d["channel"], received_date=d["received_date"], note=d["note"])
    if action == "extend":
        return services.extend(user, app, maturity_date=d["maturity_date"], note=d["note"])
    if action == "close":
        return services.close(user, app, day=d["day"])
    if action == "priority":
        return services.set_priority(user, app, d["reason"], d["note"])
    raise PermissionDenied


@login_required
def application_detail(request, pk):
    """An application: its facts, each stage's clock, its schedule once lent, and the reader's actions."""
    _require(request, "fund.view")
    app = _get(request, pk)
    actions = _actions(request, app)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in actions:
            raise PermissionDenied
        form = type(actions[action])(request.POST, **({"channels": [
            c for c in selectors.params_on(clock.today()).channels if c.code != app.channel]}
            if action == "transfer" else {}))
        actions[action] = form
        status = 400
        if form.is_valid():
            try:
                result = _do(request.user, app, action, form.cleaned_data)
                messages.success(request, _("已办理。"))
                target = result.pk if isinstance(result, Application) else app.pk
                return redirect("fund:detail", pk=target)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    today = clock.today()
    schedule = selectors.schedule_of(app)
    return render(request, "fund/detail.html", {
        "app": app, "actions": [(name, ACTION_TITLES[name], form, isinstance(form, forms.Irreversible))
                            for name, form in actions.items()],
        "clocks": selectors.clocks(app, today), "stages": rules.STAGES, "today": today,
        "reasons": [_label(rules.PRECHECK_REASONS, r) for r in app.reasons],
        "rejection": _label(rules.REJECTION_REASONS, app.rejection_reason),
        "schedule": schedule, "overdue_days": rules.overdue_days(schedule, today) if schedule else 0,
        "events": app.events.select_related("by"), "tranches": app.tranches.all()}, status=status)
