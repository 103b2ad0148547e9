"""Background jobs on a database-backed queue.

Why our own and not django-tasks: a job here must report progress (rows done of rows total) and a
failure message a user reads on the page, and several workers on PostgreSQL must each take a
different job (``SELECT … FOR UPDATE SKIP LOCKED``). django-tasks' database backend has no
progress field; this module is the ~150 lines that add it. No broker, no extra server: on the
embedded default `huiqi serve` starts one worker beside the web server; on PostgreSQL run as
many `huiqi worker` processes as needed.

A running job holds a lease (``HUIQI_JOB_LEASE_SECONDS``) that its worker renews from a heartbeat
thread and with every progress report. A worker that dies (``kill -9``, a lost machine) stops renewing
it; once it lapses the next worker looking for work takes the job over and runs it again (handlers
are transactional: a killed run left nothing), up to ``HUIQI_JOB_MAX_ATTEMPTS`` runs in all, after
which the job is failed with a message its user reads, and the kind's ``on_failure`` hook (an upload
marks itself failed, so that the file can be sent again) runs.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .i18n import stored, stored_error
from .models import Job

log = logging.getLogger("huiqi.jobs")

HANDLERS: dict[str, Callable[["JobContext"], dict | None]] = {}
ON_FAILURE: dict[str, Callable[[Job, str], None]] = {}

LOST_WORKER = _("执行该任务的后台进程已中断，任务未完成，也未留下任何更改；请重新提交")


def handler(kind: str, on_failure: Callable[[Job, str], None] | None = None):
    """Register ``func(ctx) -> result dict`` as the handler of jobs of ``kind``; ``on_failure(job,
    message)`` runs when such a job fails for good (its handler raised, or its workers died)."""

    def register(func):
        HANDLERS[kind] = func
        if on_failure is not None:
            ON_FAILURE[kind] = on_failure
        return func

    return register


def lease_seconds() -> float:
    return float(settings.HUIQI_JOB_LEASE_SECONDS)


def _lease(now=None):
    return (now or timezone.now()) + dt.timedelta(seconds=lease_seconds())


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
        fields = {"progress_done": done, "lease_until": _lease()}
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
    """Take the oldest queued job, or a running one whose worker's lease lapsed; concurrent workers
    never take the same one. A lapsed job that has had its runs is failed instead, and the search
    goes on."""
    while True:
        failed = None
        with transaction.atomic():
            now = timezone.now()
            job = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, lease_until__lt=now))
                .order_by("created_at", "id")
                .first()
            )
            if job is None:
                return None
            if job.status == Job.Status.RUNNING:
                log.warning("job %s: worker %s lost its lease; taken over by %s", job.pk, job.worker, worker_name)
            if job.attempts >= max_attempts():
                failed = _fail(job, stored(LOST_WORKER), now)
            else:
                job.status = Job.Status.RUNNING
                job.started_at = now
                job.worker = worker_name
                job.lease_until = _lease(now)
                job.attempts += 1
                job.save(update_fields=["status", "started_at", "worker", "lease_until", "attempts"])
                return job
        _after_failure(failed)


def max_attempts() -> int:
    return int(settings.HUIQI_JOB_MAX_ATTEMPTS)


def _fail(job: Job, message: str, now) -> Job:
    job.status, job.error, job.finished_at, job.lease_until = Job.Status.FAILED, message, now, None
    job.save(update_fields=["status", "error", "finished_at", "lease_until"])
    return job


def _after_failure(job: Job) -> None:
    """The kind's ``on_failure`` hook, outside the job's transaction; its own failure is logged."""
    if job.kind not in HANDLERS:
        _load_handlers()
    hook = ON_FAILURE.get(job.kind)
    if hook is None:
        return
    try:
        hook(job, job.error)
    except Exception:  # noqa: BLE001 - the job is failed already; the hook's trouble is the log's
        log.exception("job %s: on_failure hook failed", job.pk)


class Heartbeat(threading.Thread):
    """Renews a running job's lease every third of its length, on a connection of its own, until
    stopped. A renewal that cannot be written now (SQLite's single writer) is tried again later."""

    def __init__(self, job: Job):
        super().__init__(name=f"job-{job.pk}-heartbeat", daemon=True)
        self.job_id, self.worker = job.pk, job.worker
        self.stopped = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(max(lease_seconds() / 3, 0.05)):
                try:
                    Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING, worker=self.worker).update(
                        lease_until=_lease())
                except DatabaseError:
                    log.warning("job %s: lease not renewed this time", self.job_id, exc_info=True)
        finally:
            connections.close_all()

    def stop(self):
        self.stopped.set()
        self.join()


def run(job: Job) -> Job:
    """Run one claimed job to the end, recording success or a readable failure."""
    if job.kind not in HANDLERS:
        _load_handlers()
    ctx = JobContext(job)
    heartbeat = Heartbeat(job)
    heartbeat.start()
    try:
        result = HANDLERS[job.kind](ctx)
    except DomainError as exc:
        job.status, job.error = Job.Status.FAILED, stored_error(exc)
    except Exception as exc:  # noqa: BLE001 - a job's failure is shown to its user, not raised
        log.exception("job %s failed", job.pk)
        job.status = Job.Status.FAILED
        job.error = stored(_("内部错误，请联系管理员（%(error)s）"), error=f"{type(exc).__name__}: {exc}")
        job.result = {"traceback": traceback.format_exc()[-4000:]}
    else:
        job.status = Job.Status.SUCCEEDED
        job.result = result or {}
        job.refresh_from_db(fields=["progress_total"])
        job.progress_done = job.progress_total or job.progress_done
    finally:
        heartbeat.stop()
    job.finished_at = timezone.now()
    job.lease_until = None
    fields = ["status", "error", "result", "finished_at", "lease_until"]
    if job.status == Job.Status.SUCCEEDED:
        fields.append("progress_done")
    # Only the outcome: the progress columns were written by the handler through another path.
    job.save(update_fields=fields)
    if job.status == Job.Status.FAILED:
        _after_failure(job)
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
