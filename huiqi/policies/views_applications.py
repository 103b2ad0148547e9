"""The pages of online applications (在线申报): an enterprise applies from an item's page (the form prefilled
from the registry, its declared facts beside) and follows its applications' states and due days; the owning
department works its queue (filters in the URL, overdue highlighted) and moves each application with a
confirmation; lists export as CSV or XLSX. ``urls`` names them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiqi.core import clock
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError, NotFound
from huiqi.core.filters import apply
from huiqi.core.formpages import Confirmation, confirmation, guide_context
from huiqi.core.forms import add_domain_error
from huiqi.core.money import fen_to_yuan
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page
from huiqi.core.tabular import write_rows

from . import rules, selectors, services
from .filters import ApplicationFilter
from .forms import ApplicationActionForm, ApplicationForm
from .models import Application, ApplicationState

ACTION_TITLES = {"accept": gettext_lazy("受理"), "approve": gettext_lazy("批准"), "reject": gettext_lazy("不予批准"),
                 "pay": gettext_lazy("登记兑付")}


@login_required
def apply_for(request, code):
    """在线申报: the 办事指南 with the SLA, the registry's facts of the item's criteria, an input for each one it
    lacks (declared), the statement, contact and attachments; refusals join the form's errors."""
    require_page(request, "policies.apply")
    from .site import GUIDES

    day = clock.today()
    version = selectors.published_version(code, day)
    if version is None or version.mode not in selectors.APPLIABLE:
        raise Http404
    enterprises = list(selectors.own_enterprises(request.user))
    if not enterprises:
        raise PermissionDenied
    pick = request.POST.get("uscc") or request.GET.get("uscc")
    current = next((e for e in enterprises if e.uscc == pick), enterprises[0])
    facts = selectors.prefilled(version, current.uscc, day) or []
    labels = selectors.value_labels()
    form = ApplicationForm(request.POST or None, request.FILES or None,
                           declarable=[f.name for f in facts if not f.known], labels=labels)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                app = services.submit_application(
                    request.user, enterprise=current, code=code, declared=form.declared(),
                    statement=form.cleaned_data["statement"], contact_name=form.cleaned_data["contact_name"],
                    contact_phone=form.cleaned_data["contact_phone"], attachments=form.cleaned_data["attachments"])
                return redirect("policies:applied", number=app.number)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    shown = [(f.field.label, _shown(f, labels) if f.known else None, f.field.source) for f in facts]
    return render(request, "policies/apply.html", {
        "version": version, "item": version.item, "form": form, "facts": shown, "enterprises": enterprises,
        "current": current, "open": rules.is_open(day, version.opens, version.closes),
        **guide_context(GUIDES["policies.apply"], form)}, status=status)


def _shown(fact, labels):
    value = fact.value
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return labels.get(fact.name, {}).get(value, rules.json_value(value))


def _get(request, number) -> Application:
    try:
        return selectors.application_for(request.user, number)
    except Application.DoesNotExist:
        raise Http404 from None


@login_required
def applied(request, number):
    require_page(request, "policies.apply")
    app = _get(request, number)
    done = Confirmation(
        title=_("申报已提交"), reference=app.number,
        view_url=reverse("policies:application", args=[app.number]), view_label=_("查看申报和办理进度"),
        by=app.due, by_label=_("办理时限"),
        facts=[(_("政策事项"), app.version.title), (_("办理部门"), app.department or "—"),
               (_("状态"), app.get_state_display())],
        next=[_("办理部门受理后审核申报材料，审核结果在本平台和深i企中通知。"),
              _("批准后按政策兑付资金或落实支持，兑付情况可在申报页面查看。")])
    return confirmation(request, done)


def _listed(request):
    qs, typed = apply(ApplicationFilter, request, selectors.applications_for(request.user))
    return qs, typed


@login_required
def applications(request):
    """The reader's applications: an enterprise its own, a department its queue (oldest due first), the bureau
    every one; filtered by state, item, days, overdue and words; overdue ones highlighted."""
    require_page(request, "policies.view_applications")
    qs, typed = _listed(request)
    if request.user.has_perm("policies.handle_application"):
        qs = qs.order_by("due", "id")
    page, query = paginate(request, qs)
    today = clock.today()
    rows = [(a, selectors.is_overdue(a, today)) for a in page.object_list]
    return render(request, "policies/applications.html", {
        "page": page, "query": query, "rows": rows, "f": typed, "states": ApplicationState.choices,
        "today": today})


@login_required
def applications_export(request, fmt):
    """The list as the reader filtered it, as CSV or XLSX (raw values: amounts in 元, days ISO)."""
    require_page(request, "policies.view_applications")
    if fmt not in ("csv", "xlsx"):
        raise NotFound("policies.format", _("只能导出 CSV 或 XLSX"))
    qs, _typed = _listed(request)
    # What a line shows only: not the facts judged, nor the versions' texts and criteria.
    qs = qs.defer("registry", "declared", "outcome", "statement", "version__criteria", "version__summary",
                  "version__guide", "version__faq", "version__tags", "version__search_text")
    headers = [_("申报编号"), _("事项编码"), _("政策事项"), _("统一社会信用代码"), _("企业名称"), _("办理部门"),
               _("状态"), _("提交日期"), _("办理时限"), _("是否超期"), _("批准金额（元）"), _("兑付金额（元）"),
               _("兑付日期")]
    today = clock.today()
    rows = ((a.number, a.item.code, a.version.title, a.enterprise.uscc, a.enterprise.name, str(a.department or ""),
             a.get_state_display(), a.submitted_on, a.due, _("是") if selectors.is_overdue(a, today) else _("否"),
             fen_to_yuan(a.approved_fen), fen_to_yuan(a.paid_fen), a.paid_on) for a in qs.iterator())
    return file_download(lambda path: write_rows(path, headers, rows), f"policy-applications.{fmt}")


@login_required
def application(request, number):
    """One application: the item, the facts it was judged on (registry and declared apart), the attachments,
    its state and due day, the audit trail of its moves, and the department's actions with a confirmation."""
    require_page(request, "policies.view_applications")
    app = _get(request, number)
    allowed = selectors.application_actions(request.user, app)
    forms_ = {action: ApplicationActionForm(action=action) for action in allowed}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in allowed:
            raise PermissionDenied
        form = ApplicationActionForm(request.POST, action=action)
        forms_[action] = form
        status = 400
        if form.is_valid():
            try:
                services.move_application(request.user, app, action, note=form.cleaned_data.get("note") or "",
                                          amount_fen=form.cleaned_data.get("amount"))
                messages.success(request, _("已办理：%(state)s") % {"state": app.get_state_display()})
                return redirect("policies:application", number=app.number)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    labels = selectors.value_labels()
    facts = []
    for name in rules.fields_used(app.version.criteria):
        field = rules.FIELDS[name]
        registry, declared = app.registry.get(name), app.declared.get(name)
        facts.append((field.label, _value(name, registry, labels), _value(name, declared, labels)))
    return render(request, "policies/application.html", {
        "app": app, "facts": facts, "overdue": selectors.is_overdue(app), "today": clock.today(),
        "attachments": app.attachments.all(), "trail": selectors.application_trail(app),
        "actions": [(a, ACTION_TITLES[a], f) for a, f in forms_.items()],
        "outcome": rules.OUTCOMES.get(app.outcome.get("outcome"), "")}, status=status)


def _value(name, value, labels):
    if value is None:
        return None
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return labels.get(name, {}).get(value, value)


@login_required
def application_file(request, number, pk):
    require_page(request, "policies.view_applications")
    app = _get(request, number)
    att = app.attachments.filter(pk=pk).first()
    if att is None:
        raise Http404
    # Served as a download with its own type, never rendered by the browser as a page.
    response = FileResponse(att.file.open("rb"), as_attachment=True, filename=att.name,
                            content_type=rules.attachment_content_type(att.kind))
    response["X-Content-Type-Options"] = "nosniff"
    return response

