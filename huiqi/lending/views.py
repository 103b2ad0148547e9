"""Ledger pages: a bank's loans, uploading its files, the outcome of each upload."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from huiqi.core import filters as core_filters
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.core.upload_pages import UploadPages

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


def _kinds(user) -> list[tuple[str, str]]:
    """The kinds of file the bank may send (the banks file is the bureau's)."""
    return [(k, label) for k, label in LedgerUpload.Kind.choices
            if k != "banks" or user.has_perm("lending.upload_banks")]


# The upload page and the confirmation are the senders' (banks, the bureau's banks file); auditors read the
# outcomes; the templates are for every signed-in user.
PAGES = UploadPages(
    namespace="lending", page=lambda request: _require(request, "lending.upload"),
    read=lambda request: _require(request, "lending.view_uploads"),
    send=lambda request: _require(request, "lending.upload"),
    template_read=lambda request: None,
    records=lambda user: selectors.uploads_for(user).select_related("bank", "uploaded_by"), kinds=_kinds,
    all_kinds=LedgerUpload.Kind.choices, start=imports.start_upload,
    schema=lambda user, kind: imports.IMPORTERS[kind](user).schema() if kind in imports.IMPORTERS else None,
    report_name=lambda r: f"{r.kind}-{r.pk}", guide=lambda: GUIDES["lending.upload"],
    list_template="lending/upload.html", detail_template="lending/upload_detail.html")
