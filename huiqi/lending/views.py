"""Ledger pages: a bank's loans, uploading its files, the outcome of each upload."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from huiqi.core import filters as core_filters
from huiqi.core.downloads import file_download
from huiqi.core.pagination import paginate
from huiqi.core.tabular import write_template
from huiqi.core.uploads import error_report_download, read_errors

from . import imports, selectors
from .filters import LoanFilter
from .models import BorrowerKind, LedgerUpload, Purpose

def _require(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


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
    _require(request, "lending.upload")
    error = None
    if request.method == "POST":
        upload, kind = request.FILES.get("file"), request.POST.get("kind", "")
        if upload is None or kind not in LedgerUpload.Kind.values:
            error = "请选择文件类型和要上传的文件（choose the kind of file and the file）"
        else:
            record = imports.start_upload(request.user, kind, upload)
            return redirect("lending:upload_detail", pk=record.pk)
    kinds = [(k, label) for k, label in LedgerUpload.Kind.choices
             if k != "banks" or request.user.has_perm("lending.upload_banks")]
    page, query = paginate(request, selectors.uploads_for(request.user).select_related("bank", "uploaded_by"))
    return render(request, "lending/upload.html", {"page": page, "query": query, "error": error, "kinds": kinds})


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
