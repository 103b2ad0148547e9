"""The 免申即享 lists' pages: the bureau's list of lists (compile a new one), a list's page (entries,
objections, history, the actions its state allows, each asked to confirm), its exports and payment list
file; the public 公示; an enterprise's own entries with objection and declining."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huiqi.core import clock
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page
from huiqi.core.tabular import write_rows, write_sheets

from . import rules, selectors
from . import selectors_auto as lists
from . import services_auto as auto
from .forms_auto import CompileForm, DecideForm, DeclineForm, ObjectionForm, RemoveForm, ResultsForm
from .models import AutoEntry, ListStatus, Mode, Objection


def _form_errors(form) -> str:
    return "；".join(f"{form.fields[name].label if name in form.fields else ''}：{' '.join(errs)}"
                    for name, errs in form.errors.items())


def _auto_items(day):
    return list(selectors.versions_in_force(day).filter(mode=Mode.AUTO).select_related("item").order_by("item__code"))


@login_required
def lists_index(request):
    require_page(request, "policies.view_lists")
    day = clock.today()
    form = CompileForm(items=_auto_items(day))
    if request.method == "POST":
        require_page(request, "policies.manage_lists")
        form = CompileForm(request.POST, items=_auto_items(day))
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = auto.start_compile(request.user, data["item"], data["day"], data["batch"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("名单正在后台生成，完成后由另一位工作人员复核。"))
                return redirect("core:job_detail", pk=job.pk)
        else:
            messages.error(request, _form_errors(form))
    status = request.GET.get("status", "")
    qs = lists.lists_for(request.user)
    if status in ListStatus.values:
        qs = qs.filter(status=status)
    page, query = paginate(request, qs)
    return render(request, "policies/lists.html", {
        "page": page, "query": query, "form": form, "statuses": ListStatus.choices, "status": status,
        "can_manage": request.user.has_perm("policies.manage_lists")})


@login_required
def list_detail(request, pk):
    require_page(request, "policies.view_lists")
    auto_list = lists.list_for(request.user, pk)
    if auto_list is None:
        raise Http404
    if request.method == "POST":
        require_page(request, "policies.manage_lists")
        _act(request, auto_list)
        return redirect("policies:list", pk=pk)
    show = request.GET.get("entries", "")
    page, query = paginate(request, lists.entries_of(auto_list, show if show in AutoEntry.Status.values else None))
    for entry in page.object_list:
        entry.explained = lists.explained(entry)
    return render(request, "policies/list.html", {
        "l": auto_list, "page": page, "query": query, "show": show, "totals": lists.list_totals(auto_list),
        "objections": lists.objections_of(auto_list), "history": lists.list_history(auto_list),
        "children": lists.children_of(auto_list), "actions": lists.list_actions(request.user, auto_list),
        "can_manage": request.user.has_perm("policies.manage_lists"),
        "removable": auto_list.status == ListStatus.COMPILED and request.user.has_perm("policies.manage_lists"),
        "deciding": auto_list.status in (ListStatus.PUBLICISED, ListStatus.OBJECTIONS_CLOSED)
        and request.user.has_perm("policies.manage_lists"),
        "results_form": ResultsForm(), "statuses": AutoEntry.Status.choices})


def _act(request, auto_list):
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "remove":
            form = RemoveForm(request.POST)
            if not form.is_valid():
                messages.error(request, _form_errors(form))
                return
            entry = auto_list.entries.filter(pk=form.cleaned_data["entry"]).first()
            if entry is None:
                raise Http404
            auto.remove_entry(user, entry, form.cleaned_data["reason"])
        elif action == "decide":
            form = DecideForm(request.POST)
            if not form.is_valid():
                messages.error(request, _form_errors(form))
                return
            objection = auto_list.objections.filter(pk=form.cleaned_data["objection"]).first()
            if objection is None:
                raise Http404
            auto.decide_objection(user, objection, form.cleaned_data["decision"] == "upheld",
                                  form.cleaned_data["reason"], form.cleaned_data["granted"])
        elif action == "upload_results":
            form = ResultsForm(request.POST, request.FILES)
            if not form.is_valid():
                messages.error(request, _form_errors(form))
                return
            auto.upload_results(user, auto_list, form.cleaned_data["file"])
        elif action == "review":
            auto.review_list(user, auto_list)
        elif action == "publish":
            auto.publish_list(user, auto_list)
        elif action == "close":
            auto.close_objections(user, auto_list)
        elif action == "confirm":
            auto.confirm_list(user, auto_list)
            if auto_list.supplement is not None:
                messages.info(request, _("异议成立的补充事项已生成补充公示名单 #%(pk)s。") % {"pk": auto_list.supplement.pk})
        elif action == "prepare_payment":
            auto.prepare_payment(user, auto_list)
        elif action == "approve_payment":
            auto.approve_payment(user, auto_list)
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已完成。"))


@login_required
def list_export(request, pk, fmt):
    """Every entry of a list (XLSX or CSV; machine values)."""
    require_page(request, "policies.view_lists")
    auto_list = lists.list_for(request.user, pk)
    if auto_list is None or fmt not in ("csv", "xlsx"):
        raise Http404
    return file_download(lambda path: write_rows(path, lists.EXPORT_HEADER, lists.export_rows(auto_list)),
                         f"policy-list-{auto_list.pk}.{fmt}")


@login_required
def payment_file(request, pk, fmt):
    """The payment list: its lines sorted by beneficiary (CSV), or with its control totals (XLSX, a second
    sheet): count, Σ amount and the SHA-256 of the sorted lines."""
    require_page(request, "policies.view_lists")
    auto_list = lists.list_for(request.user, pk)
    if auto_list is None or fmt not in ("csv", "xlsx") or not auto_list.payment_digest:
        raise Http404
    rows = [(b, name, rules.fen_text(fen)) for b, name, fen in lists.payment_lines(auto_list)]
    if fmt == "csv":
        return file_download(lambda path: write_rows(path, lists.PAYMENT_HEADER, rows),
                             f"payment-list-{auto_list.pk}.csv")
    totals = [("count", auto_list.payment_count), ("total", rules.fen_text(auto_list.payment_total_fen)),
              ("sha256", auto_list.payment_digest)]
    return file_download(lambda path: write_sheets(path, [("lines", lists.PAYMENT_HEADER, rows),
                                                          ("control", ("name", "value"), totals)]),
                         f"payment-list-{auto_list.pk}.xlsx")


def public_index(request):
    """The 公示 of every publicised list (public: no sign-in)."""
    page, query = paginate(request, lists.public_lists())
    return render(request, "policies/public_index.html", {"page": page, "query": query, "today": clock.today()})


def public_list(request, pk):
    auto_list = lists.public_lists().filter(pk=pk).first()
    if auto_list is None:
        raise Http404
    columns = lists.public_columns(auto_list)
    page, query = paginate(request, list(lists.public_rows(auto_list, [c for c, _l in columns])), per_page=50)
    return render(request, "policies/public_list.html", {
        "l": auto_list, "columns": columns, "page": page, "query": query,
        "amount_at": [c for c, _l in columns].index("amount") if any(c == "amount" for c, _l in columns) else -1,
        "open": auto_list.status == ListStatus.PUBLICISED and clock.today() <= auto_list.objections_until})


@login_required
def own(request):
    """An enterprise's entries on 公示 lists, with an objection or declining each; the lists open for
    objection, where an enterprise not listed may ask to be added."""
    require_page(request, "policies.own_entries")
    enterprises = list(selectors.own_enterprises(request.user))
    if request.method == "POST":
        _own_act(request, enterprises)
        return redirect("policies:own_lists")
    day = clock.today()
    entries = list(lists.own_entries(request.user))
    return render(request, "policies/own_lists.html", {
        "entries": entries, "objections": lists.own_objections(request.user), "day": day,
        "open_lists": lists.open_for_objection(day), "kinds": Objection.Kind.choices,
        "objection_form": ObjectionForm(enterprises=enterprises), "enterprises": enterprises,
        "before_confirmed": auto.BEFORE_CONFIRMED})


def _own_act(request, enterprises):
    action = request.POST.get("action")
    try:
        if action == "object":
            form = ObjectionForm(request.POST, enterprises=enterprises)
            if not form.is_valid():
                messages.error(request, _form_errors(form))
                return
            data = form.cleaned_data
            auto_list = lists.public_lists().filter(pk=data["auto_list"]).first()
            if auto_list is None:
                raise Http404
            auto.object_to(request.user, auto_list, data["uscc"], data["kind"], data["text"], data["requested"])
            messages.success(request, _("异议已提交，处理结果将在本页显示。"))
        elif action == "decline":
            form = DeclineForm(request.POST)
            entry = lists.own_entry(request.user, form.cleaned_data["entry"]) if form.is_valid() else None
            if entry is None:
                raise Http404
            auto.decline_entry(request.user, entry, form.cleaned_data["reason"])
            messages.success(request, _("已放弃该名单中的本企业条目。"))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
