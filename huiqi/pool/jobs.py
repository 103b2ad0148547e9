"""Background jobs of the risk-compensation pool: registering what the ledger added, and the banks' files."""

from __future__ import annotations

from huiqi.core.jobs import handler


@handler("pool.register")
def register_job(ctx):
    from . import services

    return services.register_loans(ctx.user, progress=lambda done, total: ctx.progress(done, total, force=True))


def _upload_failed(job, message):
    from huiqi.core import uploads

    from .models import PoolUpload

    uploads.fail(PoolUpload(pk=job.params["upload_id"]), message)


@handler("pool.upload", on_failure=_upload_failed)
def upload_job(ctx):
    """A bank's classification or claims file too large to check in the request that sent it."""
    from . import imports
    from .models import PoolUpload

    record = imports.process(PoolUpload.objects.get(pk=ctx.params["upload_id"]), ctx.user, progress=ctx.progress)
    return {"status": record.status, "message": record.message}


REPORT_KIND = "pool.report_pdf"


def report_path(job_pk: int):
    from pathlib import Path

    from django.conf import settings

    return Path(settings.MEDIA_ROOT) / "pool" / "reports" / f"report-{job_pk}.pdf"


@handler(REPORT_KIND)
def report_pdf_job(ctx):
    """params: {"on": "YYYY-MM-DD", "language": optional}: the report as the user who asked may read it, in
    the language they read."""
    import datetime as dt

    from django.conf import settings
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from huiqi.core.errors import PermissionDenied
    from huiqi.core.i18n import stored

    from . import report

    if not ctx.user.has_perm("pool.view"):
        raise PermissionDenied("pool.forbidden", _("无权查看风险补偿资金池"))
    on = dt.date.fromisoformat(ctx.params["on"])
    ctx.progress(0, 2, stored(_("汇总数据")), force=True)
    data = report.build(ctx.user, on, ctx.params.get("language"))
    ctx.progress(1, 2, stored(_("生成 PDF")), force=True)
    path = report.write_pdf(data, report_path(ctx.job.pk))
    return {"file": str(path.relative_to(settings.MEDIA_ROOT)), "title": data["title"],
            "link": reverse("pool:report_pdf", args=[ctx.job.pk])}


@handler("pool.reprice")
def reprice_job(ctx):
    """params: {"repricing": id}: apply an approved re-pricing."""
    from . import services

    changed = services.apply_repricing(ctx.user, ctx.params["repricing"],
                                       progress=lambda done, total: ctx.progress(done, total, force=True))
    return {"changed": changed}
