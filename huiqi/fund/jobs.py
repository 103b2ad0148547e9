"""Background jobs of the fund: a channel's status file too large to check in the request that sent it."""

from __future__ import annotations

from huiqi.core.jobs import handler


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
