"""The pool's report pages: the report at a day (page, workbook, PDF in a background job) and the charts'
data of the dashboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from huiqi.core import clock
from huiqi.core.downloads import file_download
from huiqi.core.permissions import require_page as _require
from huiqi.core.tabular import write_sheets

from . import report, selectors, services
from .jobs import report_path
from .views import _catch_up


def _report_day(request) -> dt.date:
    try:
        return dt.date.fromisoformat((request.GET.get("on") or request.POST.get("on") or "").strip())
    except ValueError:
        return clock.today()


@login_required
def report_page(request):
    """The seed's figures at a day, from the data, with the seed's sentence; the realised ratio; the
    contingent liability by bank and by vintage; the warning when expected claims approach the balance; each
    bank's scorecard. A POST queues the PDF."""
    _require(request, "pool.view")
    on = _report_day(request)
    if request.method == "POST":
        job = services.start_report_pdf(request.user, on)
        messages.success(request, _("PDF 正在后台生成，完成后可在任务页下载。"))
        return redirect("core:job_detail", pk=job.pk)
    _catch_up(request)
    data = report.build(request.user, on)
    return render(request, "pool/report.html", {**data, "recent": selectors.report_jobs_for(request.user)[:5]})


@login_required
def report_export(request):
    """The report as a workbook of its tables, in the reader's language."""
    _require(request, "pool.view")
    data = report.build(request.user, _report_day(request))
    return file_download(lambda path: write_sheets(path, report.sheets(data)), f"pool-report-{data['on']}.xlsx")


@login_required
def report_pdf(request, job):
    """The PDF a report job wrote: its own user's (and administrators')."""
    _require(request, "pool.view")
    found = get_object_or_404(selectors.report_jobs_for(request.user, done=True), pk=job)
    path = report_path(found.pk)
    if not path.is_file() or not str(path.resolve()).startswith(str(Path(settings.MEDIA_ROOT).resolve())):
        raise Http404
    return FileResponse(open(path, "rb"), content_type="application/pdf", as_attachment=True,
                        filename=f"pool-report-{(found.params or {}).get('on', '')}.pdf")
