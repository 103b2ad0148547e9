"""The directory file's pages (生产企业目录文件): the bureau's upload with its guide, each file's outcome and
refusal report, and the template. The city's readers read the files; only the bureau sends them."""

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
from .models import DirectoryUpload

KIND = "directory"


def _kinds():
    return [(KIND, DirectoryUpload._meta.verbose_name)]


@login_required
def upload_page(request):
    """The guide, the upload form (the bureau) and the files so far; a file received leads to its
    confirmation."""
    _require(request, "supplies.view_files")
    form, status = None, 200
    if request.user.has_perm("supplies.manage_directory"):
        posted = request.method == "POST"
        form = UploadForm(request.POST if posted else None, request.FILES if posted else None, kinds=_kinds(),
                          initial={"kind": KIND})
    if request.method == "POST":
        if form is None:
            _require(request, "supplies.manage_directory")
        status = 400
        if form.is_valid():
            try:
                record = imports.start_upload(request.user, form.cleaned_data["file"])
                return redirect("supplies:upload_submitted", pk=record.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    page, query = paginate(request, selectors.uploads_for(request.user))
    from .site import GUIDES

    context = {"page": page, "query": query, "form": form}
    if form is not None:
        context.update(guide_context(GUIDES["supplies.directory_file"], form))
    return render(request, "supplies/uploads.html", context, status=status)


@login_required
def upload_submitted(request, pk):
    """The confirmation of a file just sent, for the person who sent it."""
    _require(request, "supplies.view_files")
    record = get_object_or_404(selectors.uploads_for(request.user).filter(uploaded_by=request.user), pk=pk)
    return confirmation(request, upload_confirmation(record, reverse("supplies:upload_detail", args=[record.pk])))


@login_required
def upload_detail(request, pk):
    """A file's outcome: counts and every error of a refused one."""
    _require(request, "supplies.view_files")
    record = get_object_or_404(selectors.uploads_for(request.user), pk=pk)
    report_url = reverse("supplies:upload_error_report", args=[record.pk, "csv"])[:-3]
    return render(request, "supplies/upload_detail.html",
                  {"r": record, "errors": read_errors(record), "report_url": report_url})


@login_required
def upload_error_report(request, pk, fmt):
    _require(request, "supplies.view_files")
    record = get_object_or_404(selectors.uploads_for(request.user), pk=pk)
    if fmt not in record.error_report_formats:
        raise Http404
    return error_report_download(record, fmt, f"{imports.DirectoryImporter.name}-{record.pk}-errors.{fmt}")


@login_required
def template(request, lang, fmt):
    """The directory file's template, with Chinese or English column names, as CSV or XLSX."""
    _require(request, "supplies.view_files")
    if lang not in ("zh", "en") or fmt not in ("csv", "xlsx"):
        raise Http404
    return file_download(lambda path: write_template(imports.directory_schema(), path, lang),
                         f"supplies-directory-template-{lang}.{fmt}")
