"""Ledger pages: a bank's loans, uploading its files, the outcome of each upload."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from huiqi.core import filters as core_filters
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.formpages import confirmation, guide_context, upload_confirmation
from huiqi.core.forms import UploadForm, add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.tabular import write_template
from huiqi.core.uploads import error_report_download, read_errors
from huiqi.core.permissions import require_page as _require

from . import imports, selectors
from .filters import LoanFilter
from .models import BorrowerKind, LedgerUpload, Purpose
from .site import GUIDES

@login_required
def loan_list(request):
    _require(request, "lending.view")
    qs, f = core_filters.apply(LoanFilter, request, selectors.loans_for(request.user))
    page, query = paginate(request, qs)
    return render(request, "lending/loan_list.html", {
        "page": page, "query": query, "f": f, "kinds": BorrowerKind.choices, "purposes": Purpose.choices,
        "filtered": any(f.values()),
    })


@login_required
def upload_page(request):
    """The guide, the upload form and the uploads so far; a file received leads to its confirmation."""
    _require(request, "lending.upload")
    kinds = [(k, label) for k, label in LedgerUpload.Kind.choices
             if k != "banks" or request.user.has_perm("lending.upload_banks")]
    posted = request.method == "POST"  # bound even when nothing came: an empty post lists what is missing
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None, kinds=kinds)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                record = imports.start_upload(request.user, form.cleaned_data["kind"], form.cleaned_data["file"])
                return redirect("lending:upload_submitted", pk=record.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    page, query = paginate(request, selectors.uploads_for(request.user).select_related("bank", "uploaded_by"))
    return render(request, "lending/upload.html", {"page": page, "query": query, "form": form, "kinds": kinds,
                                                   **guide_context(GUIDES["lending.upload"], form)},
                  status=status)


@login_required
def upload_submitted(request, pk):
    """The confirmation of a file just sent, for the person who sent it: its number and its outcome so far."""
    _require(request, "lending.upload")
    record = get_object_or_404(selectors.uploads_for(request.user).filter(uploaded_by=request.user), pk=pk)
    return confirmation(request, upload_confirmation(record, reverse("lending:upload_detail", args=[record.pk])))


@login_required
def upload_detail(request, pk):
    _require(request, "lending.view_uploads")
    record = get_object_or_404(selectors.uploads_for(request.user), pk=pk)
    report_url = reverse("lending:upload_error_report", args=[record.pk, "csv"])[:-3]
    return render(request, "lending/upload_detail.html",
                  {"r": record, "errors": read_errors(record), "report_url": report_url})


@login_required
def upload_error_report(request, pk, fmt):
    _require(request, "lending.view_uploads")
    record = get_object_or_404(selectors.uploads_for(request.user), pk=pk)
    if fmt not in record.error_report_formats:
        raise Http404
    return error_report_download(record, fmt, f"{record.kind}-{record.pk}-errors.{fmt}")


@login_required
def template(request, kind, lang, fmt):
    if kind not in imports.IMPORTERS or lang not in ("zh", "en") or fmt not in ("csv", "xlsx"):
        raise Http404
    schema = imports.IMPORTERS[kind](request.user).schema()
    return file_download(lambda path: write_template(schema, path, lang), f"{kind}-template-{lang}.{fmt}")
