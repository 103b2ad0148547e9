"""Issue 16.8: a crash just after a batch was recorded left it without its files, and a retry was
refused. A batch's files are derived from what is recorded, so they can always be written again: the
command's retry writes them, ``huiqi subsidy files`` writes them on demand, a run's job taken over from
a dead worker finishes with the batch its first attempt recorded, and the pages write a missing file
again when it is asked for, byte for byte the same."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from huiqi.core import jobs
from huiqi.core.models import Job
from huiqi.subsidy import services
from huiqi.subsidy.models import BatchStatus, SubsidyBatch

pytestmark = pytest.mark.django_db

DEC = dt.date(2020, 12, 31)
RESULT_FILES = ("beneficiaries.csv", "loans.csv")
PAYMENT_FILES = ("payments.csv", "payments.xlsx", "control.csv")


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def body(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def run(out, who="bureau", cutoff="2020-12-31"):
    call_command("subsidy", "run", "--cutoff", cutoff, "--out", str(out), "--as", who)


def released(staff, tmp_path=None) -> tuple[SubsidyBatch, dict]:
    batch = services.run_batch(staff["bureau"], DEC)
    services.review(staff["bureau2"], batch)
    services.approve(staff["bureau3"], batch)
    paths = services.release(staff["admin"], batch, tmp_path)
    batch.refresh_from_db()
    return batch, paths


def test_a_retry_after_a_crash_past_the_record_writes_the_recorded_batchs_files(
        example, staff, tmp_path, monkeypatch, capsys):
    def crash(*args, **kwargs):  # the process dies once the batch is recorded, before its files
        raise OSError("killed")

    write_outputs = services.write_outputs
    monkeypatch.setattr(services, "write_outputs", crash)
    with pytest.raises(OSError):
        run(tmp_path / "run")
    batch = SubsidyBatch.objects.get()
    assert batch.status == BatchStatus.RUN and not (tmp_path / "run").exists()

    monkeypatch.setattr(services, "write_outputs", write_outputs)
    capsys.readouterr()
    run(tmp_path / "run")  # the same command again
    assert list(SubsidyBatch.objects.values_list("pk", flat=True)) == [batch.pk]
    printed = capsys.readouterr().out
    assert f"#{batch.pk}" in printed and "未重新计算" in printed and "nothing recomputed" in printed
    call_command("subsidy", "simulate", "--cutoff", "2020-12-31", "--out", str(tmp_path / "sim"))
    for name in RESULT_FILES:
        assert (tmp_path / "run" / name).read_bytes() == (tmp_path / "sim" / name).read_bytes()

    # Another person's run, or a batch already reviewed, is no retry: the open batch still blocks.
    with pytest.raises(CommandError) as err:
        run(tmp_path / "other", who="bureau2")
    assert "尚未拨付或作废" in str(err.value)
    services.review(staff["bureau2"], batch)
    with pytest.raises(CommandError):
        run(tmp_path / "again")
    assert SubsidyBatch.objects.count() == 1


def test_the_files_command_writes_a_recorded_batchs_files_again(example, staff, tmp_path, capsys):
    run(tmp_path / "run")
    batch = SubsidyBatch.objects.get()
    call_command("subsidy", "files", "--batch", str(batch.pk), "--out", str(tmp_path / "again"), "--as", "auditor")
    for name in RESULT_FILES:
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "run" / name).read_bytes()
    assert not (tmp_path / "again" / "payments.csv").exists()  # not released: no payment file

    services.review(staff["bureau2"], batch)
    services.approve(staff["bureau3"], batch)
    paths = services.release(staff["admin"], batch, tmp_path / "bank")
    call_command("subsidy", "files", "--batch", str(batch.pk), "--out", str(tmp_path / "later"), "--as", "bureau")
    for name in ("payments.csv", "control.csv"):
        assert (tmp_path / "later" / name).read_bytes() == paths[name].read_bytes()
    assert (tmp_path / "later" / "payments.xlsx").stat().st_size > 0
    assert f"#{batch.pk}" in capsys.readouterr().out

    for args, zh in ((["--batch", "999", "--as", "bureau"], "没有编号为 999 的贴息批次"),
                     (["--batch", str(batch.pk), "--as", "ent"], "无权执行此操作（subsidy.view_batches）")):
        with pytest.raises(CommandError) as err:
            call_command("subsidy", "files", "--out", str(tmp_path / "x"), *args)
        assert zh in str(err.value)
    assert not (tmp_path / "x").exists()


def test_a_run_whose_worker_died_after_the_record_finishes_with_that_batch(example, staff):
    job = services.start_batch_run(staff["bureau"], DEC, note="后台")
    claimed = jobs.claim_next("worker-1")
    jobs.HANDLERS[claimed.kind](jobs.JobContext(claimed))  # recorded, then the worker is killed
    batch = SubsidyBatch.objects.get()
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))

    assert jobs.run_pending() == 1  # another worker takes the lapsed job over
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["batch_id"] == batch.pk and SubsidyBatch.objects.count() == 1


def test_lost_payment_files_are_written_again_from_the_record(example, staff):
    batch, paths = released(staff)
    assert {p.parent for p in paths.values()} == {services.batch_dir(batch)}
    original = {name: path.read_bytes() for name, path in paths.items()}
    for path in paths.values():
        path.unlink()  # a crash, a lost disk, a restore without the data folder

    c = client(staff["auditor"])
    page = c.get(f"/subsidy/b/{batch.pk}/").content.decode()
    for name in PAYMENT_FILES:
        assert f'data-file="{name}"' in page
    for name in RESULT_FILES:
        assert f'data-result-file="{name}"' in page
    assert "1,020,266.66" in page.split("data-control")[1]  # the control total, from control.csv written again
    for name in ("payments.csv", "control.csv"):
        resp = c.get(f"/subsidy/b/{batch.pk}/files/{name}")
        assert resp.status_code == 200 and body(resp) == original[name], name
    resp = c.get(f"/subsidy/b/{batch.pk}/files/payments.xlsx")
    assert resp.status_code == 200 and body(resp)[:2] == b"PK"
    api = c.get(f"/api/v1/subsidy-batches/{batch.pk}/").json()
    assert set(api["files"]) == {*PAYMENT_FILES, *RESULT_FILES}


def test_a_batchs_result_files_are_downloaded_from_the_record(example, staff, tmp_path):
    run(tmp_path / "run")
    batch = SubsidyBatch.objects.get()
    c = client(staff["bureau"])
    for name in RESULT_FILES:
        resp = c.get(f"/subsidy/b/{batch.pk}/files/{name}")
        assert resp.status_code == 200 and body(resp) == (tmp_path / "run" / name).read_bytes(), name
    rows = list(csv.reader(io.StringIO(body(c.get(f"/subsidy/b/{batch.pk}/files/loans.csv")).decode())))
    assert rows[0] == list(services.LOAN_COLUMNS) and len(rows) == 8
    for name in PAYMENT_FILES:  # not released yet
        assert c.get(f"/subsidy/b/{batch.pk}/files/{name}").status_code == 404
    assert client(staff["bank"]).get(f"/subsidy/b/{batch.pk}/files/loans.csv").status_code == 403
