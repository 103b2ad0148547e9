"""Background jobs of the epidemic-supplies program: a directory file too large to check in the request that
sent it."""

from __future__ import annotations

from huiqi.core.jobs import handler


def _upload_failed(job, message):
    from huiqi.core import uploads

    from .models import DirectoryUpload

    uploads.fail(DirectoryUpload(pk=job.params["upload_id"]), message)


@handler("supplies.directory_upload", on_failure=_upload_failed)
def directory_upload_job(ctx):
    from . import imports
    from .models import DirectoryUpload

    record = imports.process(DirectoryUpload.objects.get(pk=ctx.params["upload_id"]), ctx.user,
                             progress=ctx.progress)
    return {"status": record.status, "message": record.message}
