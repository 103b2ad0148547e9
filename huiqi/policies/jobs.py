"""Background jobs of the policy hub: the day's push (new matches, closing reminders, requests for missing
facts) at ``digest_time``, as a timer or the bureau enqueues it."""

from __future__ import annotations

from huiqi.core.jobs import handler


@handler("policies.push")
def push_job(ctx):
    """params: {"on": "YYYY-MM-DD"} (today when omitted)."""
    import datetime as dt

    from . import push

    on = ctx.params.get("on")
    return push.run(dt.date.fromisoformat(on) if on else None)
