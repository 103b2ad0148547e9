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
