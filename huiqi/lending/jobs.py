"""Background jobs of the loan ledger."""

from huiqi.core import jobs, uploads

from .imports import IMPORTERS
from .models import LedgerUpload


@jobs.handler("lending.upload")
def ledger_upload(ctx):
    record = LedgerUpload.objects.get(pk=ctx.params["upload_id"])
    record = uploads.process(IMPORTERS[record.kind](ctx.user), record, ctx.user, progress=ctx.progress)
    return {"status": record.status, "message": record.message}
