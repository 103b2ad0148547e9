"""Jobs hold a lease: a dead worker's job is taken over by another worker, and failed visibly (with the
kind's on_failure hook: an upload marks itself failed) once it has had its runs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from huiqi.core import jobs
from huiqi.core.i18n import shown
from huiqi.core.models import Job
from huiqi.core.tests import sleeper

pytestmark = pytest.mark.django_db


def _lapse(job):
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))


def test_a_claimed_job_holds_a_lease_that_keeps_others_off():
    job = jobs.enqueue("test.sleeper", {})
    claimed = jobs.claim_next("w1")
    assert claimed.pk == job.pk and claimed.attempts == 1
    assert claimed.lease_until > timezone.now()
    assert jobs.claim_next("w2") is None


def test_a_lapsed_lease_is_taken_over_and_the_job_finished_by_the_other_worker():
    job = jobs.enqueue("test.sleeper", {})
    jobs.claim_next("dead-worker")
    _lapse(job)
    taken = jobs.claim_next("w2")
    assert (taken.pk, taken.worker, taken.attempts) == (job.pk, "w2", 2)
    jobs.run(taken)
    job.refresh_from_db()
    assert job.status == "succeeded" and job.lease_until is None and job.result == {"slept": 0}


def test_a_job_whose_workers_keep_dying_is_failed_with_a_message_and_its_hook(settings):
    settings.HUIQI_JOB_MAX_ATTEMPTS = 2
    sleeper.FAILED.clear()
    job = jobs.enqueue("test.sleeper", {})
    later = jobs.enqueue("test.sleeper", {})
    for worker in ("w1", "w2"):
        assert jobs.claim_next(worker).pk == job.pk
        _lapse(job)
    # The third worker finds the job spent: it fails it and goes on to the next one.
    assert jobs.claim_next("w3").pk == later.pk
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert "后台进程已中断" in shown(job.error)
    with translation.override("en"):
        assert "the worker running this job stopped" in shown(job.error)
    assert sleeper.FAILED == [(job.pk, job.error)]


@pytest.mark.django_db(transaction=True)  # progress is written outside the handler's transaction only
def test_a_progress_report_renews_the_lease(settings):
    settings.HUIQI_JOB_LEASE_SECONDS = 30
    job = jobs.enqueue("test.sleeper", {})
    claimed = jobs.claim_next("w1")
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() + dt.timedelta(seconds=1))
    jobs.JobContext(claimed).progress(1, 2, force=True)
    job.refresh_from_db()
    assert job.lease_until > timezone.now() + dt.timedelta(seconds=20)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_the_lease_while_the_handler_works(settings):
    settings.HUIQI_JOB_LEASE_SECONDS = 0.6  # renewed every 0.2 s
    job = jobs.enqueue("test.sleeper", {"seconds": 1.5})
    claimed = jobs.claim_next("w1")
    first = claimed.lease_until
    seen = []

    def watch():
        time.sleep(1.0)
        seen.append(Job.objects.get(pk=job.pk).lease_until)

    import threading

    watcher = threading.Thread(target=watch)
    watcher.start()
    jobs.run(claimed)
    watcher.join()
    # The handler's own progress report came first, at 0 s; only the heartbeat moved it past 0.9 s.
    assert seen and seen[0] > first + dt.timedelta(seconds=0.5)


def test_an_upload_whose_job_died_is_marked_failed_and_can_be_sent_again(users, settings):
    from huiqi.registry import services
    from huiqi.registry.models import Enterprise

    settings.HUIQI_INLINE_IMPORT_BYTES = 10
    settings.HUIQI_JOB_MAX_ATTEMPTS = 1
    data = ("统一社会信用代码,企业名称,主体类型,所属区,行业代码,从业人员（人）,营业收入（万元）,数据年度\n"
            "91440300708461136T,深圳市续传测试有限公司,企业,440305,C39,50,3000,2019\n").encode()
    record = services.start_registry_import(users["bureau"], SimpleUploadedFile("r.csv", data))
    jobs.claim_next("dead-worker")
    _lapse(record.job)
    assert jobs.claim_next("w2") is None
    record.refresh_from_db()
    assert record.status == "failed" and "后台进程已中断" in record.message
    again = services.start_registry_import(users["bureau"], SimpleUploadedFile("r.csv", data))
    assert jobs.run_pending() == 1
    again.refresh_from_db()
    assert again.status == "stored" and Enterprise.objects.filter(uscc="91440300708461136T").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a second process needs a database on disk")
@pytest.mark.django_db(transaction=True)
def test_kill_minus_9_of_a_worker_mid_job_and_another_worker_finishes_it(settings):
    settings.HUIQI_JOB_LEASE_SECONDS = 1
    job = jobs.enqueue("test.sleeper", {"seconds": 60})
    env = {**os.environ, "HUIQI_JOB_LEASE_SECONDS": "1", "DJANGO_SETTINGS_MODULE": "huiqi.settings",
           "HUIQI_TEST_DATABASE": connection.settings_dict["NAME"]}
    code = ("import os, django; from django.conf import settings; django.setup();"
            "settings.DATABASES['default']['NAME'] = os.environ['HUIQI_TEST_DATABASE'];"
            "import huiqi.core.tests.sleeper; from huiqi.core import jobs; jobs.run_pending(1)")
    worker = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[3])
    try:
        for _ in range(300):
            job.refresh_from_db()
            if job.status == "running":
                break
            time.sleep(0.1)
        assert job.status == "running" and job.attempts == 1
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
    assert jobs.claim_next("w2") is None  # the dead worker's lease still runs
    time.sleep(1.2)
    Job.objects.filter(pk=job.pk).update(params={"seconds": 0})
    taken = jobs.claim_next("w2")
    assert taken.pk == job.pk and taken.attempts == 2
    jobs.run(taken)
    job.refresh_from_db()
    assert job.status == "succeeded"
