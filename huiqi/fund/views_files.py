"""The fund's page for what a channel reports by file: the upload of either kind (申请登记: the applications
it received; 办理情况: 放款、还款、展期、结清 by application number), each file's outcome and refusal report,
and the templates."""

from __future__ import annotations

from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.core.upload_pages import UploadPages

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


def _guide():
    from .site import GUIDES

    return GUIDES["fund.channel_file"]


def _detail(request, record) -> dict:
    """A stored registration file's page lists the applications it registered."""
    if record.kind == StatusUpload.Kind.APPLICATIONS and record.status == StatusUpload.Status.STORED:
        page, query = paginate(request, selectors.applications_of_upload(request.user, record))
        return {"page": page, "query": query}
    return {}


def _schema(user, kind):
    return imports.KINDS[kind].importer(user).schema() if kind in imports.KINDS else None


PAGES = UploadPages(
    namespace="fund", read=_files_reader, send=lambda request: _require(request, "fund.upload_status"),
    records=selectors.status_uploads_for, kinds=_kinds, all_kinds=StatusUpload.Kind.choices,
    start=lambda user, kind, upload: imports.start_upload(user, upload, kind=kind), schema=_schema,
    report_name=lambda r: f"{imports.KINDS[r.kind].importer.name}-{r.pk}",
    template_name=lambda kind, lang: f"{imports.KINDS[kind].importer.name}-template-{lang}",
    guide=_guide, list_template="fund/uploads.html", detail_template="fund/upload_detail.html",
    detail_context=_detail)
