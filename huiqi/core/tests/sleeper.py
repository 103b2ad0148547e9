"""A job kind for the lease tests: it sleeps ``seconds`` (reporting progress first), then succeeds."""

import time

from huiqi.core import jobs

FAILED = []


@jobs.handler("test.sleeper", on_failure=lambda job, message: FAILED.append((job.pk, message)))
def sleeper(ctx):
    ctx.progress(0, 1, "sleeping", force=True)
    time.sleep(float(ctx.params.get("seconds", 0)))
    return {"slept": ctx.params.get("seconds", 0)}
