"""Background jobs of the stable-development fund: the funnel's PDF, and a channel's file (申请登记 or 办理情况)
too large to check in the request that sent it."""

from __future__ import annotations

from huiqi.core.jobs import handler

REPORT_KIND = "fund.funnel_pdf"


def report_path(job_pk: int):
    from pathlib import Path

    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "fund" / "reports" / f"funnel-{job_pk}.pdf"


@handler(REPORT_KIND)
def funnel_pdf_job(ctx):
    """params: {"on": "YYYY-MM-DD", "language": optional}: the funnel as the user who asked may read it, in
    the language they read."""
    import datetime as dt

    from django.conf import settings
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from huiqi.core.i18n import stored

    from . import report

    on = dt.date.fromisoformat(ctx.params["on"])
    ctx.progress(0, 2, stored(_("汇总数据")), force=True)
    data = report.build(ctx.user, on, ctx.params.get("language"))  # refused unless the asker may read it
    ctx.progress(1, 2, stored(_("生成 PDF")), force=True)
    path = report.write_pdf(data, report_path(ctx.job.pk))
    return {"file": str(path.relative_to(settings.MEDIA_ROOT)), "title": data["title"],
            "link": reverse("fund:funnel_pdf", args=[ctx.job.pk])}


def _upload_failed(job, message):
    from huiqi.core import uploads

    from .models import StatusUpload

    uploads.fail(StatusUpload(pk=job.params["upload_id"]), message)


@handler("fund.status_upload", on_failure=_upload_failed)
def status_upload_job(ctx):
    from . import imports
    from .models import StatusUpload

    record = imports.process(StatusUpload.objects.get(pk=ctx.params["upload_id"]), ctx.user, progress=ctx.progress)
    return {"status": record.status, "message": record.message}
