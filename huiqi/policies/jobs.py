"""Background jobs of the policy hub: compiling a 免申即享 list (``services_auto.start_compile`` queues it, from
the page and the API alike: a list evaluates the whole registry); the day's push (new matches, closing
reminders, requests for missing facts) at ``digest_time``, as a timer or the bureau enqueues it."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from huiqi.core.jobs import handler


@handler("policies.compile_list")
def compile_list_job(ctx):
    """params: {"item": code, "day": "YYYY-MM-DD", "batch": a released subsidy batch or null}; runs as the user
    who queued it."""
    from . import selectors_auto, services_auto

    day = dt.date.fromisoformat(ctx.params["day"])
    if ctx.params.get("batch"):
        made = services_auto.compile_subsidy_list(ctx.user, ctx.params["item"], int(ctx.params["batch"]), day)
    else:
        made = services_auto.compile_list(ctx.user, ctx.params["item"], day)
    totals = selectors_auto.list_totals(made)
    return {"list_id": made.pk, "listed": totals["listed"], "listed_fen": totals["listed_fen"],
            "link": reverse("policies:list", args=[made.pk])}


@handler("policies.push")
def push_job(ctx):
    """params: {"on": "YYYY-MM-DD"} (today when omitted)."""
    from . import push

    on = ctx.params.get("on")
    return push.run(dt.date.fromisoformat(on) if on else None)
