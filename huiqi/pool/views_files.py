"""The pool's pages for what banks report by file: the upload page (five-tier classifications, claims by
the non-performing loans file), each file's outcome and refusal report, the templates, and a loan as the
pool sees it (its classification history, NPL date and claims)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.formpages import confirmation, guide_context, upload_confirmation
from huiqi.core.forms import UploadForm, add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.core.tabular import write_template
from huiqi.core.uploads import error_report_download, read_errors
from huiqi.lending import selectors as lending

from . import imports, selectors
from .models import PoolUpload


def _kinds(user) -> list[tuple[str, str]]:
    """The kinds of file the reader may send."""
    return [(k, label) for k, label in PoolUpload.Kind.choices if user.has_perm(imports.PERMISSIONS[k])]


@login_required
def upload_page(request):
    """The guide, the upload form (a bank's staff) and the files so far; a file received leads to its
    confirmation."""
    _require(request, "pool.view")
    kinds = _kinds(request.user)
    form = None
    status = 200
    if kinds:
        posted = request.method == "POST"
        form = UploadForm(request.POST if posted else None, request.FILES if posted else None, kinds=kinds)
    if request.method == "POST":
        if form is None:
            _require(request, "pool.file_claim")
        status = 400
        if form.is_valid():
            try:
                record = imports.start_upload(request.user, form.cleaned_data["kind"], form.cleaned_data["file"])
                return redirect("pool:upload_submitted", pk=record.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    page, query = paginate(request, selectors.uploads_for(request.user))
    from .site import GUIDES

    context = {"page": page, "query": query, "form": form, "kinds": kinds or PoolUpload.Kind.choices}
    if form is not None:
        context.update(guide_context(GUIDES["pool.upload"], form))
    return render(request, "pool/uploads.html", context, status=status)


@login_required
def upload_submitted(request, pk):
    """The confirmation of a file just sent, for the person who sent it."""
    _require(request, "pool.view")
    record = get_object_or_404(selectors.uploads_for(request.user).filter(uploaded_by=request.user), pk=pk)
    return confirmation(request, upload_confirmation(record, reverse("pool:upload_detail", args=[record.pk])))


@login_required
def upload_detail(request, pk):
    """A file's outcome: counts, every error of a refused one, the claims a claims file filed."""
    _require(request, "pool.view")
    record = get_object_or_404(selectors.uploads_for(request.user), pk=pk)
    report_url = reverse("pool:upload_error_report", args=[record.pk, "csv"])[:-3]
    claims = None
    if record.kind == "claims":
        claims = selectors.claims_for(request.user).filter(upload=record).order_by("id")
    return render(request, "pool/upload_detail.html",
                  {"r": record, "errors": read_errors(record), "report_url": report_url, "claims": claims})


@login_required
def upload_error_report(request, pk, fmt):
    _require(request, "pool.view")
    record = get_object_or_404(selectors.uploads_for(request.user), pk=pk)
    if fmt not in record.error_report_formats:
        raise Http404
    return error_report_download(record, fmt, f"pool-{record.kind}-{record.pk}-errors.{fmt}")


@login_required
def template(request, kind, lang, fmt):
    """A kind's upload template, with Chinese or English column names, as CSV or XLSX."""
    _require(request, "pool.view")
    if kind not in imports.IMPORTERS or lang not in ("zh", "en") or fmt not in ("csv", "xlsx"):
        raise Http404
    schema = imports.IMPORTERS[kind](request.user).schema()
    return file_download(lambda path: write_template(schema, path, lang), f"pool-{kind}-template-{lang}.{fmt}")


@login_required
def loan_detail(request, pk):
    """A loan as the pool sees it: its facts, its five-tier classification history and the NPL date it
    gives, its NPL record and its claims (a bank: its own loans only)."""
    _require(request, "pool.view")
    loan = selectors.loan_for(request.user, pk)
    history = selectors.classification_history(loan.pk)
    return render(request, "pool/loan_detail.html", {
        "loan": loan, "npl_date": history.npl_date,
        "npl": lending.non_performing().filter(loan=loan).first(),
        "classifications": selectors.classifications_for(request.user).filter(loan=loan).order_by("on"),
        "claims": selectors.claims_for(request.user).filter(loan=loan).order_by("-filed_at")})
