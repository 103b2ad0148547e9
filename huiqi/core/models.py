"""Cross-cutting tables: program parameters, the audit log, background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Parameter(models.Model):
    """One value of one program parameter, in force from ``effective_from`` until a later row.

    Rules never hard-code a policy number: they receive the values in force on the day they
    compute for (see ``core.params``).
    """

    key = models.CharField("参数键 key", max_length=100, db_index=True)
    program = models.CharField("所属项目 program", max_length=50, db_index=True)
    value = models.JSONField("取值 value")
    effective_from = models.DateField("生效日期 effective from")
    description = models.CharField("说明 description", max_length=300, blank=True)
    note = models.CharField("修改原因 reason for change", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "项目参数 parameter"
        verbose_name_plural = "项目参数 parameters"
        ordering = ["program", "key", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["key", "effective_from"], name="parameter_key_date_unique")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.effective_from}"


class AuditEvent(models.Model):
    """An append-only record of one change: who, when, what, and the values before and after.

    Nothing in the application updates or deletes these rows; on PostgreSQL a trigger refuses it
    at the database too.
    """

    at = models.DateTimeField("时间 when", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField("操作人 who", max_length=150, blank=True)
    action = models.CharField("动作 action", max_length=40, db_index=True)
    model = models.CharField("对象类型 record type", max_length=100, db_index=True)
    object_id = models.CharField("对象编号 record id", max_length=100, db_index=True, blank=True)
    object_repr = models.CharField("对象 record", max_length=300, blank=True)
    before = models.JSONField("修改前 before", null=True, blank=True)
    after = models.JSONField("修改后 after", null=True, blank=True)
    note = models.TextField("说明 note", blank=True)

    class Meta:
        verbose_name = "审计记录 audit record"
        verbose_name_plural = "审计记录 audit records"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"])]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_insert_with_pk", False):
            raise RuntimeError("audit records are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit records are append-only")

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each field whose value differs."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class Job(models.Model):
    """A unit of background work with progress a user can watch."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中 queued"
        RUNNING = "running", "进行中 running"
        SUCCEEDED = "succeeded", "已完成 succeeded"
        FAILED = "failed", "失败 failed"

    kind = models.CharField("任务类型 kind", max_length=60)
    title = models.CharField("标题 title", max_length=200, blank=True)
    params = models.JSONField("参数 params", default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    # The running worker renews its lease while it works; a job whose lease lapsed lost its worker
    # (killed, machine gone) and is taken over by another or failed (``core.jobs.claim_next``).
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "后台任务 job"
        verbose_name_plural = "后台任务 jobs"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.status}"

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class CalendarDay(models.Model):
    """A day on which the official calendar departs from the week: a statutory holiday (休) or a
    weekend day made a working day (调休 make-up day, 班).

    Seeded from the chinese-calendar package and edited in the back office when the State Council
    publishes next year's notice; a year with no row at all is a year whose calendar is missing
    (``core.workdays``).
    """

    date = models.DateField("日期 date", unique=True)
    is_working_day = models.BooleanField("是否上班 working day")
    name = models.CharField("节日 holiday", max_length=60, blank=True)
    note = models.CharField("依据 source", max_length=200, blank=True)

    class Meta:
        verbose_name = "节假日与调休 holiday or make-up day"
        verbose_name_plural = "节假日与调休 holidays and make-up days"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_working_day else '休'} {self.name}"


class RateCounter(models.Model):
    """Requests counted per key (a client address, an account) in a fixed window, shared by every
    server process (``core.throttling``): one row per key and window, incremented in the database."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "请求计数 rate counter"
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_unique")]


class ParameterProposal(models.Model):
    """A change of money parameters (a subsidy's cap or budget) waiting for a second person: the proposer
    cannot approve it (the database refuses it too); approved, it is written as a dated value."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "已驳回"

    key = models.CharField("参数键", max_length=100, db_index=True)
    program = models.CharField("所属项目", max_length=50)
    value = models.JSONField("拟改取值")
    effective_from = models.DateField("生效日期")
    note = models.CharField("修改原因", max_length=300, blank=True)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField("提出时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=300, blank=True)
    parameter = models.ForeignKey(Parameter, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "参数修改提议"
        verbose_name_plural = "参数修改提议"
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True) | ~models.Q(decided_by=models.F("proposed_by")),
                name="parameter_proposal_second_person"),
            models.CheckConstraint(
                condition=(models.Q(status="pending", decided_by__isnull=True)
                           | (~models.Q(status="pending") & models.Q(decided_by__isnull=False))),
                name="parameter_proposal_decided_by_someone"),
        ]

    def __str__(self) -> str:
        return f"{self.key} @ {self.effective_from} ({self.status})"
