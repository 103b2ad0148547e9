"""The producers directory's pages: the directory (filters in the URL, status on a day, exports), a
producer's page with the bureau's forms (edit the entry, suspend with a confirmation step, resume, a
product line), and listing a new producer with its guide and confirmation."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiqi.core import clock, formats
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError, NotFound
from huiqi.core.formpages import Confirmation, confirmation, guide_context
from huiqi.core.forms import add_domain_error
from huiqi.core.i18n import localized
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.core.tabular import write_rows
from huiqi.registry import selectors as registry

from . import forms, rules, selectors, services
from .models import Producer


def _day(raw: str | None) -> dt.date | None:
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return day if rules.EARLIEST <= day <= rules.LATEST else None


def _filters(request) -> dict:
    """The list's filters as read from the URL (anything unreadable is as if not given)."""
    g = request.GET
    status = g.get("status", "").strip()
    converted = {"1": True, "0": False}.get(g.get("converted", "").strip())
    return {"on": _day(g.get("on")) or clock.today(), "status": status if status in rules.STATUSES else "",
            "district": g.get("district", "").strip(), "product": g.get("product", "").strip(),
            "converted": converted, "q": g.get("q", "").strip()[:50]}


def _directory(request):
    f = _filters(request)
    return selectors.directory(request.user, **f), f


def _lines(producer: Producer) -> list[dict]:
    return [{"product": line.product, "capacity": line.capacity_per_day, "unit": line.product.get_unit_display(),
             "product_class": localized(line.product, "product_class"),
             "reported_from": line.reported_from, "reported_to": line.reported_to, "line": line}
            for line in producer.products.all()]


# The badge a status wears (the stylesheet's colours: green, amber, red, blue).
BADGES = {"active": "stored", "suspended": "pending", "removed": "refused", "not_yet": "unchanged"}


def _row(producer: Producer, on: dt.date) -> dict:
    status = selectors.status_of(producer, on)
    return {"p": producer, "status": status, "status_label": rules.STATUSES[status], "badge": BADGES[status],
            "lines": _lines(producer)}


@login_required
def index(request):
    """The directory as the reader may read it: a row per producer with its status on the day."""
    _require(request, "supplies.view_directory")
    qs, f = _directory(request)
    page, query = paginate(request, qs)
    rows = [_row(p, f["on"]) for p in page.object_list]
    return render(request, "supplies/list.html", {
        "page": page, "query": query, "rows": rows, "f": f, "statuses": list(rules.STATUSES.items()),
        "districts": registry.districts(), "products": selectors.products(active_only=False),
        "filtered": any(f[k] not in ("", None) for k in ("status", "district", "product", "converted", "q"))})


def _capacity_text(lines) -> str:
    return "；".join(f"{line['product'].label} {formats.count(line['capacity'])} {line['unit']}/{_('天')}"
                    for line in lines)


@login_required
def export(request, fmt):
    """The list with the same filters as a CSV or XLSX, in the reader's language."""
    _require(request, "supplies.view_directory")
    if fmt not in ("csv", "xlsx"):
        raise NotFound("supplies.format", _("只能导出 CSV 或 XLSX"))
    qs, f = _directory(request)
    on = f["on"]
    headers = [_("统一社会信用代码"), _("企业名称"), _("所属区"), _("%(day)s 状态") % {"day": formats.day(on)},
               _("列入目录日期"), _("有效期至"), _("移出原因"), _("转产企业"), _("联系人"), _("联系电话"),
               _("产品及日产能")]

    def rows():
        for p in qs.iterator(chunk_size=500):
            r = _row(p, on)
            yield (p.uscc, p.enterprise.name, str(p.enterprise.district), str(r["status_label"]), p.active_from,
                   p.active_to, p.removal_reason, _("是") if p.converted else _("否"), p.contact_name,
                   p.contact_phone, _capacity_text(r["lines"]))

    return file_download(lambda path: write_rows(path, headers, rows()), f"supplies-producers-{on.isoformat()}.{fmt}")


# --- a producer ---------------------------------------------------------------------------------------

def _get(request, pk) -> Producer:
    try:
        return selectors.producer_for(request.user, pk)
    except Producer.DoesNotExist:
        raise Http404 from None


# Lazy: the titles are read in the language of each request.
ACTION_TITLES = {
    "edit": gettext_lazy("修改目录信息"), "suspend": gettext_lazy("暂停"), "resume": gettext_lazy("恢复"),
    "product": gettext_lazy("登记或修改产品"),
}


def _actions(request, producer: Producer, posted: str | None = None) -> dict:
    """The bureau's forms for the producer, each unbound but the one posted."""
    if not request.user.has_perm("supplies.manage_directory", producer):
        return {}
    data = request.POST if posted else None

    def bound(name, form_class, **kw):
        return form_class(data, **kw) if posted == name else form_class(**kw)

    out = {"edit": bound("edit", forms.EntryFields, initial={
        "active_from": producer.active_from, "active_to": producer.active_to, "reason": producer.removal_reason,
        "converted": producer.converted, "contact_name": producer.contact_name,
        "contact_phone": producer.contact_phone})}
    if any(s.end is None for s in producer.suspensions.all()):
        out["resume"] = bound("resume", forms.ResumeForm)
    else:
        out["suspend"] = bound("suspend", forms.SuspendForm)
    out["product"] = bound("product", forms.ProductLineForm)
    return out


def _do(user, producer, action, d):
    if action == "edit":
        return services.update_producer(user, producer, active_from=d["active_from"], active_to=d["active_to"],
                                        converted=d["converted"], contact_name=d["contact_name"],
                                        contact_phone=d["contact_phone"], removal_reason=d["reason"])
    if action == "suspend":
        return services.suspend(user, producer, d["start"], d["reason"])
    if action == "resume":
        return services.resume(user, producer, d["resume_on"])
    if action == "product":
        return services.set_product(user, producer, services.ProductLine(
            d["product"], d["capacity_per_day"], d["reported_from"], d["reported_to"]))
    raise PermissionDenied


def _suspension_checked(user, producer, d) -> None:
    """The suspension's refusals before it is confirmed: it is tried and rolled back."""
    with transaction.atomic():
        services.suspend(user, producer, d["start"], d["reason"])
        transaction.set_rollback(True)


@login_required
def producer_detail(request, pk):
    """A producer's entry, its status on the day, its listing and suspensions, its products; for the bureau,
    the forms that keep it. A suspension is confirmed in a second step: it changes the programs' priority."""
    _require(request, "supplies.view_directory")
    producer = _get(request, pk)
    on = _day(request.GET.get("on")) or clock.today()
    action = request.POST.get("action", "") if request.method == "POST" else None
    actions = _actions(request, producer, action)
    status, confirm = 200, None
    if action is not None:
        if action not in actions:
            raise PermissionDenied
        form = actions[action]
        status = 400
        if form.is_valid():
            try:
                if action == "suspend" and request.POST.get("confirmed") != "1":
                    _suspension_checked(request.user, producer, form.cleaned_data)
                    confirm = form.cleaned_data
                    status = 200
                else:
                    _do(request.user, producer, action, form.cleaned_data)
                    messages.success(request, _("已办理。"))
                    return redirect("supplies:producer", pk=producer.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    return render(request, "supplies/producer.html", {
        "p": producer, "on": on, **_row(producer, on), "suspensions": producer.suspensions.all(),
        "actions": [(name, ACTION_TITLES[name], form) for name, form in actions.items()],
        "confirm": confirm}, status=status)


# --- a new listing --------------------------------------------------------------------------------------

@login_required
def producer_new(request):
    """The bureau lists a producer: the guide, the form, the confirmation."""
    _require(request, "supplies.manage_directory")
    from .site import GUIDES

    form = forms.ListingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                d = form.cleaned_data
                lines = form.lines()
                producer = services.list_producer_until(
                    request.user, d["uscc"], d["active_from"], active_to=d["active_to"], removal_reason=d["reason"],
                    converted=d["converted"], contact_name=d["contact_name"], contact_phone=d["contact_phone"],
                    products=[services.ProductLine(x["code"], x["capacity_per_day"], x["reported_from"],
                                                   x["reported_to"]) for x in lines])
                return redirect("supplies:listed", pk=producer.pk)
            except DomainError as exc:
                for error in getattr(exc, "errors", None) or [exc]:  # a line's error beside that line's fields
                    number = error.params.get("line")
                    if number and error.field and number <= len(lines):
                        error.field = lines[number - 1]["prefix"] + error.field
                add_domain_error(form, exc)
                status = exc.status
    return render(request, "supplies/form.html", {"form": form, **guide_context(GUIDES["supplies.list"], form)},
                  status=status)


@login_required
def listed(request, pk):
    """The confirmation of a producer just listed."""
    _require(request, "supplies.manage_directory")
    producer = _get(request, pk)
    today = clock.today()
    status = selectors.status_of(producer, today)
    done = Confirmation(
        title=_("已列入生产企业目录"), reference=producer.uscc,
        view_url=reverse("supplies:producer", args=[producer.pk]), view_label=_("查看目录信息"),
        facts=[(_("企业"), producer.enterprise.name), (_("列入目录日期"), formats.day(producer.active_from)),
               (_("今日状态"), rules.STATUSES[status]),
               (_("产品"), _capacity_text(_lines(producer)) or "—")],
        next=[_("自列入目录日期起，该企业即为在册生产企业，各项目（如平稳发展基金的优先支持）按此判断。"),
              _("暂停、恢复、移出目录和产品变化在企业的目录页面办理，均留痕。")])
    return confirmation(request, done)
