"""Background jobs of return to work: the analysis report's PDF (CJK PDFs take seconds) and the rollup
rebuild."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import PermissionDenied
from huiqi.core.i18n import stored
from huiqi.core.jobs import handler

REPORT_KIND = "resumption.report_pdf"


def report_path(job_pk: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "resumption" / "reports" / f"report-{job_pk}.pdf"


@handler(REPORT_KIND)
def report_pdf_job(ctx):
    """params: {"day": "YYYY-MM-DD", "district": optional, "language": optional}; scoped to the user who
    asked, in the language they read."""
    from . import report, selectors

    scope = selectors.figures_scope(ctx.user, selectors.Filters(district=ctx.params.get("district", "")))
    if scope is None:
        raise PermissionDenied("resumption.forbidden", _("无权查看复工统计"))
    day = dt.date.fromisoformat(ctx.params["day"])
    ctx.progress(0, 2, stored(_("汇总数据")), force=True)
    data = report.build(scope, day, ctx.params.get("language"))  # the language of whoever asked
    ctx.progress(1, 2, stored(_("生成 PDF")), force=True)
    path = report.write_pdf(data, report_path(ctx.job.pk))
    return {"file": str(path.relative_to(settings.MEDIA_ROOT)), "title": data["title"],
            "link": reverse("resumption:report_pdf", args=[ctx.job.pk])}


@handler("resumption.rebuild_rollup")
def rebuild_rollup_job(ctx):
    from . import services

    rows = services.rebuild_rollup(ctx.user)
    return {"rows": rows}
