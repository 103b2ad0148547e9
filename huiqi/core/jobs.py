"""Background jobs on a database-backed queue.

Why our own and not django-tasks: a job here must report progress (rows done of rows total) and a
failure message a user reads on the page, and several workers on PostgreSQL must each take a
different job (``SELECT … FOR UPDATE SKIP LOCKED``). django-tasks' database backend has no
progress field; this module is the ~150 lines that add it. No broker, no extra server: on the
embedded default `huiqi serve` starts one worker beside the web server; on PostgreSQL run as
many `huiqi worker` processes as needed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from .errors import DomainError
from .models import Job

log = logging.getLogger("huiqi.jobs")

HANDLERS: dict[str, Callable[["JobContext"], dict | None]] = {}


def handler(kind: str):
    """Register ``func(ctx) -> result dict`` as the handler of jobs of ``kind``."""

    def register(func):
        HANDLERS[kind] = func
        return func

    return register


def enqueue(kind: str, params: dict, user=None, title: str = "") -> Job:
    if kind not in HANDLERS:
        _load_handlers()
    if kind not in HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    return Job.objects.create(
        kind=kind, params=params, title=title,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def _load_handlers():
    """Handlers live in each app's ``jobs`` module; import them once."""
    from importlib import import_module

    from django.apps import apps

    for app in apps.get_app_configs():
        if app.name.startswith("huiqi."):
            try:
                import_module(f"{app.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app.name}.jobs":
                    raise


class JobContext:
    """What a handler gets: its job's params and a way to report progress."""

    def __init__(self, job: Job):
        self.job = job
        self.params = job.params
        self.user = job.created_by
        self._last = 0.0

    def progress(self, done: int, total: int | None = None, message: str = "", force: bool = False):
        """Record progress, at most a few times a second. Inside a transaction on SQLite the row
        cannot be written by a second connection, so progress is kept until the transaction ends."""
        now = time.monotonic()
        if not force and now - self._last < 0.3:
            return
        self._last = now
        fields = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        if message:
            fields["message"] = message[:500]
        alias = _progress_alias()
        if alias is None:
            return
        Job.objects.using(alias).filter(pk=self.job.pk).update(**fields)


def _progress_alias() -> str | None:
    default = connections["default"]
    if not default.in_atomic_block:
        return "default"
    if (default.vendor == "postgresql" and "progress" in connections.databases
            and getattr(settings, "HUIQI_PROGRESS_CONNECTION", True)):
        return "progress"
    return None


def claim_next(worker_name: str) -> Job | None:
    """Take the oldest queued job; concurrent workers never take the same one."""
    with transaction.atomic():
        job = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(status=Job.Status.QUEUED)
            .order_by("created_at", "id")
            .first()
        )
        if job is None:
            return None
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.worker = worker_name
        job.save(update_fields=["status", "started_at", "worker"])
        return job


def run(job: Job) -> Job:
    """Run one claimed job to the end, recording success or a readable failure."""
    if job.kind not in HANDLERS:
        _load_handlers()
    ctx = JobContext(job)
    try:
        result = HANDLERS[job.kind](ctx)
    except DomainError as exc:
        job.status, job.error = Job.Status.FAILED, exc.message
    except Exception as exc:  # noqa: BLE001 - a job's failure is shown to its user, not raised
        log.exception("job %s failed", job.pk)
        job.status = Job.Status.FAILED
        job.error = f"内部错误，请联系管理员 internal error: {type(exc).__name__}: {exc}"
        job.result = {"traceback": traceback.format_exc()[-4000:]}
    else:
        job.status = Job.Status.SUCCEEDED
        job.result = result or {}
        job.refresh_from_db(fields=["progress_total"])
        job.progress_done = job.progress_total or job.progress_done
    job.finished_at = timezone.now()
    fields = ["status", "error", "result", "finished_at"]
    if job.status == Job.Status.SUCCEEDED:
        fields.append("progress_done")
    # Only the outcome: the progress columns were written by the handler through another path.
    job.save(update_fields=fields)
    return job


def run_pending(max_jobs: int | None = None) -> int:
    """Run queued jobs in this process until none is left; returns how many ran (tests, `--once`)."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    count = 0
    while max_jobs is None or count < max_jobs:
        job = claim_next(name)
        if job is None:
            break
        run(job)
        count += 1
    return count


def work_forever(poll_seconds: float = 1.0):  # pragma: no cover - exercised by `huiqi serve`
    name = f"{socket.gethostname()}:{os.getpid()}"
    _load_handlers()
    log.info("worker %s started", name)
    while True:
        job = claim_next(name)
        if job is None:
            connections.close_all()
            time.sleep(poll_seconds)
            continue
        run(job)
