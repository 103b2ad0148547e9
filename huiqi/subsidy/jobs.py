"""Background jobs of the interest subsidy: a batch run (``services.start_batch_run`` queues it, from the
page and the API alike)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from huiqi.core.jobs import handler


@handler("subsidy.run_batch")
def run_batch_job(ctx):
    """params: {"cutoff": "YYYY-MM-DD", "note": optional}; runs as the user who queued it. Run again
    after its worker died past the record, it finishes with the batch recorded then."""
    from . import services

    def progress(done, total, message):
        ctx.progress(done, total, message, force=True)

    batch = services.run_batch(ctx.user, dt.date.fromisoformat(ctx.params["cutoff"]),
                               note=ctx.params.get("note", ""), progress=progress, job=ctx.job)
    return {"batch_id": batch.pk, "beneficiaries": batch.beneficiaries,
            "payable_total_fen": batch.payable_total_fen,
            "link": reverse("subsidy:batch_detail", args=[batch.pk])}
