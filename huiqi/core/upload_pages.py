"""The pages of an app's files sent through ``core.uploads``: the upload page (the guide, the form, the files
so far), the sender's confirmation, a file's outcome with every error, its refusal report and the blank
templates. Each app that takes files makes one ``UploadPages``, saying what differs (who reads, who sends
which kind, how a file starts, its templates), and includes ``urls()`` in its URLconf: the URL names are
``uploads``, ``upload_submitted``, ``upload_detail``, ``upload_error_report`` and ``template``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from .downloads import file_download
from .errors import DomainError
from .formpages import confirmation, guide_context, upload_confirmation
from .forms import UploadForm, add_domain_error
from .pagination import paginate
from .tabular import write_template
from .uploads import error_report_download, read_errors


@dataclass(frozen=True)
class UploadPages:
    """What an app's file pages differ in.

    ``read(request)`` refuses (``require_page``) a reader of the files list, outcomes and templates;
    ``send(request)`` one who may not send (the upload page still lists the files to readers who may not);
    ``records(user)`` is the user's scoped uploads; ``kinds(user)`` the (kind, label) pairs the user may
    send, ``all_kinds`` every kind (for the list's labels); ``start(user, kind, file)`` stores and processes
    a file (a domain error is shown on the form); ``schema(user, kind)`` is a kind's columns (None: no such
    kind); ``report_name(record)`` names the refusal report's file (without the extension);
    ``detail_context(request, record)`` adds to a file's page; ``guide`` is the upload page's guide.
    ``page(request)``, when given, refuses a reader of the upload page and the confirmation instead of
    ``read`` (the ledger's: its senders only, while auditors read the outcomes); ``template_read(request)``
    a reader of the templates (the ledger's are public to signed-in users)."""

    namespace: str
    read: Callable[[Any], None]
    send: Callable[[Any], None]
    records: Callable[[Any], Any]
    kinds: Callable[[Any], list]
    all_kinds: list
    start: Callable[[Any, str, Any], Any]
    schema: Callable[[Any, str], Any]
    report_name: Callable[[Any], str]
    guide: Callable[[], Any]
    list_template: str
    detail_template: str
    template_name: Callable[[str, str], str] = lambda kind, lang: f"{kind}-template-{lang}"
    detail_context: Callable[[Any, Any], dict] = lambda request, record: {}
    page: Callable[[Any], None] | None = None
    template_read: Callable[[Any], None] | None = None

    def urls(self, prefix: str = "files/", *, list_name: str = "uploads", templates: str | None = None) -> list:
        """The five pages under ``prefix`` (the templates under ``templates``, default ``prefix``)."""
        templates = prefix if templates is None else templates
        return [
            path(prefix, login_required(self.upload_page), name=list_name),
            path(f"{prefix}<int:pk>/", login_required(self.upload_detail), name="upload_detail"),
            path(f"{prefix}<int:pk>/submitted/", login_required(self.upload_submitted), name="upload_submitted"),
            path(f"{prefix}<int:pk>/errors.<str:fmt>", login_required(self.upload_error_report),
                 name="upload_error_report"),
            path(f"{templates}template/<str:kind>.<str:lang>.<str:fmt>", login_required(self.template),
                 name="template"),
        ]

    def _page(self, request) -> None:
        (self.page or self.read)(request)

    def upload_page(self, request):
        """The guide, the upload form (for those who may send) and the files so far; a file received leads
        to its confirmation."""
        self._page(request)
        kinds = self.kinds(request.user)
        form, status = None, 200
        if kinds:
            posted = request.method == "POST"  # bound even when nothing came: an empty post lists what is missing
            form = UploadForm(request.POST if posted else None, request.FILES if posted else None, kinds=kinds)
        if request.method == "POST":
            if form is None:
                self.send(request)
            status = 400
            if form is not None and form.is_valid():
                try:
                    record = self.start(request.user, form.cleaned_data["kind"], form.cleaned_data["file"])
                    return redirect(f"{self.namespace}:upload_submitted", pk=record.pk)
                except DomainError as exc:
                    add_domain_error(form, exc)
                    status = exc.status
        page, query = paginate(request, self.records(request.user))
        context = {"page": page, "query": query, "form": form, "kinds": kinds or self.all_kinds}
        if form is not None:
            context.update(guide_context(self.guide(), form))
        return render(request, self.list_template, context, status=status)

    def upload_submitted(self, request, pk):
        """The confirmation of a file just sent, for the person who sent it: its number and outcome so far."""
        self._page(request)
        record = get_object_or_404(self.records(request.user).filter(uploaded_by=request.user), pk=pk)
        return confirmation(request, upload_confirmation(
            record, reverse(f"{self.namespace}:upload_detail", args=[record.pk])))

    def upload_detail(self, request, pk):
        """A file's outcome: counts and every error of a refused one."""
        self.read(request)
        record = get_object_or_404(self.records(request.user), pk=pk)
        report_url = reverse(f"{self.namespace}:upload_error_report", args=[record.pk, "csv"])[:-3]
        return render(request, self.detail_template, {"r": record, "errors": read_errors(record),
                                                      "report_url": report_url,
                                                      **self.detail_context(request, record)})

    def upload_error_report(self, request, pk, fmt):
        """A refused file's errors as CSV or XLSX."""
        self.read(request)
        record = get_object_or_404(self.records(request.user), pk=pk)
        if fmt not in record.error_report_formats:
            raise Http404
        return error_report_download(record, fmt, f"{self.report_name(record)}-errors.{fmt}")

    def template(self, request, kind, lang, fmt):
        """A kind's blank template, with Chinese or English column names, as CSV or XLSX."""
        if self.template_read is not None:
            self.template_read(request)
        else:
            self.read(request)
        schema = self.schema(request.user, kind) if lang in ("zh", "en") and fmt in ("csv", "xlsx") else None
        if schema is None:
            raise Http404
        return file_download(lambda p: write_template(schema, p, lang), f"{self.template_name(kind, lang)}.{fmt}")
