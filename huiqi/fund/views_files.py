"""The fund's page for what a channel reports by file: the upload of either kind (申请登记: the applications
it received; 办理情况: 放款、还款、展期、结清 by application number), each file's outcome and refusal report,
and the templates."""

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

from . import imports, selectors
from .models import StatusUpload


def _kinds(user) -> list[tuple[str, str]]:
    """The kinds of file the reader may send."""
    return [(k, label) for k, label in StatusUpload.Kind.choices if user.has_perm(imports.KINDS[k].permission)]


def _files_reader(request) -> None:
    """The channels' staff (their own files) and the city's readers (every file); no one else."""
    _require(request, "fund.view")
    if not request.user.has_perm("fund.view_all"):
        _require(request, "fund.upload_status")


@login_required
def upload_page(request):
    """The guide, the upload form (a channel's staff) and the files so far; a file received leads to its
    confirmation."""
    _files_reader(request)
    kinds = _kinds(request.user)
    form, status = None, 200
    if kinds:
        posted = request.method == "POST"
        form = UploadForm(request.POST if posted else None, request.FILES if posted else None, kinds=kinds)
    if request.method == "POST":
        if form is None:
            _require(request, "fund.upload_status")
        status = 400
        if form.is_valid():
            try:
                record = imports.start_upload(request.user, form.cleaned_data["file"], kind=form.cleaned_data["kind"])
                return redirect("fund:upload_submitted", pk=record.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    page, query = paginate(request, selectors.status_uploads_for(request.user))
    from .site import GUIDES

    context = {"page": page, "query": query, "form": form, "kinds": kinds or StatusUpload.Kind.choices}
    if form is not None:
        context.update(guide_context(GUIDES["fund.channel_file"], form))
    return render(request, "fund/uploads.html", context, status=status)


@login_required
def upload_submitted(request, pk):
    """The confirmation of a file just sent, for the person who sent it."""
    _files_reader(request)
    record = get_object_or_404(selectors.status_uploads_for(request.user).filter(uploaded_by=request.user), pk=pk)
    return confirmation(request, upload_confirmation(record, reverse("fund:upload_detail", args=[record.pk])))


@login_required
def upload_detail(request, pk):
    """A file's outcome: counts and every error of a refused one; a registration file's applications."""
    _files_reader(request)
    record = get_object_or_404(selectors.status_uploads_for(request.user), pk=pk)
    report_url = reverse("fund:upload_error_report", args=[record.pk, "csv"])[:-3]
    context = {"r": record, "errors": read_errors(record), "report_url": report_url}
    if record.kind == StatusUpload.Kind.APPLICATIONS and record.status == StatusUpload.Status.STORED:
        registered = selectors.applications_of_upload(request.user, record)
        context["page"], context["query"] = paginate(request, registered)
    return render(request, "fund/upload_detail.html", context)


@login_required
def upload_error_report(request, pk, fmt):
    _files_reader(request)
    record = get_object_or_404(selectors.status_uploads_for(request.user), pk=pk)
    if fmt not in record.error_report_formats:
        raise Http404
    return error_report_download(record, fmt, f"{imports.KINDS[record.kind].importer.name}-{record.pk}-errors.{fmt}")


@login_required
def template(request, kind, lang, fmt):
    """A kind's template, with Chinese or English column names, as CSV or XLSX."""
    _files_reader(request)
    if kind not in imports.KINDS or lang not in ("zh", "en") or fmt not in ("csv", "xlsx"):
        raise Http404
    importer = imports.KINDS[kind].importer(request.user)
    return file_download(lambda path: write_template(importer.schema(), path, lang),
                         f"{importer.name}-template-{lang}.{fmt}")
