"""Background jobs of the registry."""

from huiqi.core import jobs

from . import imports
from .models import RegistryImport


def _import_failed(job, message):
    from huiqi.core import uploads

    uploads.fail(RegistryImport(pk=job.params["import_id"]), message)


@jobs.handler("registry.import", on_failure=_import_failed)
def registry_import(ctx):
    record = RegistryImport.objects.get(pk=ctx.params["import_id"])
    record = imports.process(record, ctx.user, progress=ctx.progress)
    return {"status": record.status, "message": record.message, "link": f"/registry/import/{record.pk}/"}
