"""The directory file's pages (生产企业目录文件) through ``core.upload_pages``: the bureau's upload with its
guide, each file's outcome and refusal report, and the template. The city's readers read the files; only the
bureau sends them."""

from __future__ import annotations

from huiqi.core.permissions import require_page as _require
from huiqi.core.upload_pages import UploadPages

from . import imports, selectors
from .models import DirectoryUpload

KIND = "directory"
KINDS = [(KIND, DirectoryUpload._meta.verbose_name)]


def _guide():
    from .site import GUIDES

    return GUIDES["supplies.directory_file"]


PAGES = UploadPages(
    namespace="supplies", read=lambda request: _require(request, "supplies.view_files"),
    send=lambda request: _require(request, "supplies.manage_directory"), records=selectors.uploads_for,
    kinds=lambda user: KINDS if user.has_perm("supplies.manage_directory") else [], all_kinds=KINDS,
    start=lambda user, kind, upload: imports.start_upload(user, upload),
    schema=lambda user, kind: imports.directory_schema() if kind == KIND else None,
    report_name=lambda r: f"{imports.DirectoryImporter.name}-{r.pk}",
    template_name=lambda kind, lang: f"{imports.DirectoryImporter.name}-template-{lang}",
    guide=_guide, list_template="supplies/uploads.html", detail_template="supplies/upload_detail.html")
