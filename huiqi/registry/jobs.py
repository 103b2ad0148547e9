"""Background jobs of the registry."""

from huiqi.core import jobs

from . import imports
from .models import RegistryImport


@jobs.handler("registry.import")
def registry_import(ctx):
    record = RegistryImport.objects.get(pk=ctx.params["import_id"])
    record = imports.process(record, ctx.user, progress=ctx.progress)
    return {"status": record.status, "message": record.message, "link": f"/registry/import/{record.pk}/"}
