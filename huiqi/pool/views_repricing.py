"""Deliberate re-pricing of registered loans: the set and the table with a preview (how many loans change,
the contingent liability before and after), the proposal, and a second person's decision before the
irreversible step, applied in a background job."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from huiqi.core import clock
from huiqi.core.errors import DomainError
from huiqi.core.forms import add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.registry import selectors as registry

from . import selectors, services
from .forms_repricing import DecisionForm, RepricingForm
from .models import Repricing


def _chosen(d) -> selectors.RepricingSet:
    bank = registry.banks().filter(code=d["bank"]).first() if d.get("bank") else None
    return selectors.RepricingSet(d["table_on"], bank.pk if bank else None, d.get("registered_from"),
                                  d.get("registered_to"), d.get("product") or "any")


@login_required
def repricing(request):
    """The set and the table, previewed (GET), then proposed (POST); the re-pricings so far."""
    _require(request, "pool.simulate")
    banks = selectors.banks_for(request.user).filter(onboarded_date__isnull=False)
    data = request.POST if request.method == "POST" else (request.GET if "table_on" in request.GET else None)
    form = RepricingForm(data, banks=banks)
    preview, hidden, status = None, [], 200
    if request.method == "POST":
        _require(request, "pool.reprice")
        status = 400
        if form.is_valid():
            try:
                done = services.propose_repricing(request.user, _chosen(form.cleaned_data), form.cleaned_data["note"])
                messages.success(request, _("重新定价已提出，须由另一位工作人员审批后执行。"))
                return redirect("pool:repricing_detail", pk=done.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    if form.is_bound and form.is_valid():
        preview = selectors.repricing_preview(request.user, _chosen(form.cleaned_data), clock.today())
        # The set previewed is the set proposed: the proposal's form carries it as it was read.
        hidden = [(name, form.cleaned_data[name].isoformat() if hasattr(form.cleaned_data[name], "isoformat")
                   else form.cleaned_data[name] or "")
                  for name in ("bank", "registered_from", "registered_to", "product", "table_on")]
    listed = selectors.repricings_to_decide(request.user) if request.GET.get("to_decide") == "1" \
        else selectors.repricings_for(request.user)
    if request.GET.get("status") in Repricing.Status.values:
        listed = listed.filter(status=request.GET["status"])
    page, query = paginate(request, listed)
    return render(request, "pool/repricing.html", {"form": form, "preview": preview, "hidden": hidden, "page": page, "query": query},
                  status=status)


@login_required
def repricing_detail(request, pk):
    """A re-pricing: its set, its preview when proposed and now, and the decision for a second person."""
    _require(request, "pool.simulate")
    found = get_object_or_404(selectors.repricings_for(request.user), pk=pk)
    may_decide = (found.status == "proposed" and request.user.has_perm("pool.reprice")
                  and found.proposed_by_id != request.user.pk)
    form = DecisionForm(request.POST or None) if may_decide else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                if d["decision"] == "approve":
                    job = services.approve_repricing(request.user, found.pk, d["note"])
                    messages.success(request, _("已批准，重新定价正在后台执行。"))
                    return redirect("core:job_detail", pk=job.pk)
                services.reject_repricing(request.user, found.pk, d["note"])
                messages.success(request, _("已驳回。"))
                return redirect("pool:repricing_detail", pk=found.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    now = selectors.repricing_preview(request.user, selectors.RepricingSet.of(found), clock.today()) \
        if found.status == "proposed" else None
    return render(request, "pool/repricing_detail.html", {"r": found, "now": now, "form": form, "r_preview": {
        "matched": found.matched, "changed": found.changed, "liability_before_fen": found.liability_before_fen,
        "liability_after_fen": found.liability_after_fen}}, status=status)
