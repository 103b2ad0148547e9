"""Cross-cutting tables: program parameters, the audit log, background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy


class Parameter(models.Model):
    """One value of one program parameter, in force from ``effective_from`` until a later row.

    Rules never hard-code a policy number: they receive the values in force on the day they
    compute for (see ``core.params``).
    """

    key = models.CharField(_("参数键"), max_length=100, db_index=True)
    program = models.CharField(_("所属项目"), max_length=50, db_index=True)
    value = models.JSONField(_("取值"))
    effective_from = models.DateField(_("生效日期"))
    description = models.CharField(_("说明"), max_length=300, blank=True)
    note = models.CharField(_("修改原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("设置人")
    )
    created_at = models.DateTimeField(_("设置时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("项目参数")
        verbose_name_plural = pgettext_lazy("plural", "项目参数")
        ordering = ["program", "key", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["key", "effective_from"], name="parameter_key_date_unique")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.effective_from}"


class AuditEvent(models.Model):
    """An append-only record of one change: who, when, what, and the values before and after.

    Nothing in the application updates or deletes these rows; on PostgreSQL a trigger refuses it
    at the database too.
    """

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("操作人")
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=40, db_index=True)
    model = models.CharField(_("对象类型"), max_length=100, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=100, db_index=True, blank=True)
    object_repr = models.CharField(_("对象"), max_length=300, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = pgettext_lazy("plural", "审计记录")
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
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("任务类型"), max_length=60)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    params = models.JSONField(_("参数"), default=dict)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    progress_done = models.BigIntegerField(_("已处理"), default=0)
    progress_total = models.BigIntegerField(_("总量"), null=True, blank=True)
    message = models.CharField(_("进度说明"), max_length=500, blank=True)
    result = models.JSONField(_("结果"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs",
        verbose_name=_("提交人")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    worker = models.CharField(_("执行进程"), max_length=100, blank=True)
    # The running worker renews its lease while it works; a job whose lease lapsed lost its worker
    # (killed, machine gone) and is taken over by another or failed (``core.jobs.claim_next``).
    lease_until = models.DateTimeField(_("租约至"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = pgettext_lazy("plural", "后台任务")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.get_status_display()}"

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

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("是否上班"))
    name = models.CharField(_("节日"), max_length=60, blank=True)
    note = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = pgettext_lazy("plural", "节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {_('班') if self.is_working_day else _('休')} {self.name}"


class RateCounter(models.Model):
    """Requests counted per key (a client address, an account) in a fixed window, shared by every
    server process (``core.throttling``): one row per key and window, incremented in the database."""

    key = models.CharField(_("键"), max_length=200)
    window_start = models.DateTimeField(_("窗口起"))
    hits = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("请求计数")
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_unique")]


class ParameterProposal(models.Model):
    """A change of money parameters (a subsidy's cap or budget) waiting for a second person: the proposer
    cannot approve it (the database refuses it too); approved, it is written as a dated value."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    key = models.CharField(_("参数键"), max_length=100, db_index=True)
    program = models.CharField(_("所属项目"), max_length=50)
    value = models.JSONField(_("拟改取值"))
    effective_from = models.DateField(_("生效日期"))
    note = models.CharField(_("修改原因"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("提议人"))
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    parameter = models.ForeignKey(Parameter, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("参数取值"))

    class Meta:
        verbose_name = _("参数修改提议")
        verbose_name_plural = pgettext_lazy("plural", "参数修改提议")
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
        return f"{self.key} @ {self.effective_from} ({self.get_status_display()})"
