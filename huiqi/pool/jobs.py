"""Background jobs of the risk-compensation pool: registering what the ledger added."""

from __future__ import annotations

from huiqi.core.jobs import handler


@handler("pool.register")
def register_job(ctx):
    from . import services

    return services.register_loans(ctx.user, progress=lambda done, total: ctx.progress(done, total, force=True))
