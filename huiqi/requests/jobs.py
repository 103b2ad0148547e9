"""Background jobs of the request channel: the overdue sweep (also `huiqi requests_sweep`)."""

from __future__ import annotations

import datetime as dt

from huiqi.core.jobs import handler


@handler("requests.sweep")
def sweep_job(ctx):
    from . import notifications, services

    today = ctx.params.get("today")
    counts = services.sweep(today=dt.date.fromisoformat(today) if today else None)
    counts["notifications"] = notifications.deliver_pending()
    return counts
