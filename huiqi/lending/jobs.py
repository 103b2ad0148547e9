"""Background jobs of the loan ledger."""

from huiqi.core import jobs

from . import snapshot
from .imports import process
from .models import LedgerUpload


def _upload_failed(job, message):
    from huiqi.core import uploads

    uploads.fail(LedgerUpload(pk=job.params["upload_id"]), message)


@jobs.handler("lending.upload", on_failure=_upload_failed)
def ledger_upload(ctx):
    record = LedgerUpload.objects.get(pk=ctx.params["upload_id"])
    record = process(record, ctx.user, progress=ctx.progress)
    return {"status": record.status, "message": record.message}


@jobs.handler("lending.snapshot")
def ledger_snapshot(ctx):
    """The columnar copy of the ledger's current version (``lending.snapshot``), so that the next
    simulation does not wait for it."""
    if not snapshot.enabled():
        return {"version": None}
    return {"version": snapshot.refresh()}
