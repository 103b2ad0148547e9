"""Return to work: filings (复工报备) with their on-site check and history, daily checks (每日排查) with
difficulties, and the daily rollup the dashboard reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ChecklistGroup(models.TextChoices):
    FOUR_IN_PLACE = "four_in_place", "四个到位 four in place"
    EIGHT_IMPLEMENTED = "eight_implemented", "八个落实 eight implemented"


class ChecklistItem(models.Model):
    """One prevention condition an enterprise confirms when it files; data the bureau edits, with dates."""

    code = models.CharField("代码 code", max_length=40)
    group = models.CharField("分组 group", max_length=20, choices=ChecklistGroup.choices)
    text = models.CharField("内容 text", max_length=200)
    text_en = models.CharField("英文 English", max_length=300, blank=True)
    order = models.PositiveSmallIntegerField("顺序 order", default=0)
    effective_from = models.DateField("生效日期 effective from")
    effective_to = models.DateField("失效日期 effective to (exclusive)", null=True, blank=True)

    class Meta:
        verbose_name = "防控条件 checklist item"
        verbose_name_plural = "防控条件 checklist items"
        ordering = ["group", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="checklist_code_date_unique"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gt=models.F("effective_from")),
                                   name="checklist_dates_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} · {self.text}"


class FilingKind(models.TextChoices):
    FILING = "filing", "复工报备 filing"
    DECLARATION = "declaration", "复工申报 declaration"


class FilingStatus(models.TextChoices):
    SUBMITTED = "submitted", "已提交 submitted"
    ASSIGNED = "assigned", "已派核查员 inspector assigned"
    INSPECTED = "inspected", "已现场核查 checked on site"
    APPROVED = "approved", "同意复工 approved"
    RETURNED = "returned", "已退回 returned"
    DECLARED = "declared", "已申报复工 declared resumed"


# The state machine: action → (states it starts from, state it leads to). One service per action.
FILING_TRANSITIONS = {
    "submit": ((), FilingStatus.SUBMITTED),
    "declare": ((), FilingStatus.DECLARED),
    "assign": ((FilingStatus.SUBMITTED, FilingStatus.ASSIGNED), FilingStatus.ASSIGNED),
    "record_check": ((FilingStatus.ASSIGNED,), FilingStatus.INSPECTED),
    "approve": ((FilingStatus.INSPECTED,), FilingStatus.APPROVED),
    "return": ((FilingStatus.SUBMITTED, FilingStatus.ASSIGNED, FilingStatus.INSPECTED), FilingStatus.RETURNED),
    "resubmit": ((FilingStatus.RETURNED,), FilingStatus.SUBMITTED),
}
# A filing in one of these waits for someone: the enterprise may not start another.
PENDING = (FilingStatus.SUBMITTED, FilingStatus.ASSIGNED, FilingStatus.INSPECTED, FilingStatus.RETURNED)
RESUMED = (FilingStatus.APPROVED, FilingStatus.DECLARED)


class CheckResult(models.TextChoices):
    PASSED = "passed", "符合复工条件 passed"
    FAILED = "failed", "不符合复工条件 failed"


class ReturnToWorkFiling(models.Model):
    """An enterprise's filing to resume work (复工报备), or after the switch its declaration (复工申报)."""

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="filings",
                                   verbose_name="企业 enterprise")
    # The district that handles it: the enterprise's when filed.
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, verbose_name="所属区 district")
    kind = models.CharField("类型 kind", max_length=12, choices=FilingKind.choices, default=FilingKind.FILING)
    status = models.CharField("状态 status", max_length=12, choices=FilingStatus.choices, db_index=True)
    planned_date = models.DateField("计划复工日期 planned date")
    staff_total = models.PositiveIntegerField("员工总数 total staff", default=0)
    staff_returning = models.PositiveIntegerField("返岗人数 returning", default=0)
    staff_from_outside = models.PositiveIntegerField("省外返深人数 from outside the province", default=0)
    staff_in_quarantine = models.PositiveIntegerField("隔离观察人数 in quarantine", default=0)
    checklist = models.JSONField("防控条件 checklist", default=list, blank=True)
    masks = models.PositiveIntegerField("口罩（只） masks", default=0)
    thermometers = models.PositiveIntegerField("体温计（支） thermometers", default=0)
    disinfectant_litres = models.PositiveIntegerField("消毒液（升） disinfectant (litres)", default=0)
    contact_name = models.CharField("联系人 contact", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话 phone", max_length=20, blank=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name="核查员 inspector")
    check_result = models.CharField("核查结果 check result", max_length=10, choices=CheckResult.choices, blank=True)
    check_findings = models.TextField("核查发现 findings", blank=True)
    checked_at = models.DateTimeField("核查时间 checked at", null=True, blank=True)
    decision_note = models.TextField("审核意见 decision note", blank=True)
    decided_at = models.DateTimeField("审核时间 decided at", null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name="提交人 submitted by")
    submitted_at = models.DateTimeField("提交时间 submitted at", default=timezone.now)
    updated_at = models.DateTimeField("更新时间 updated at", default=timezone.now)

    class Meta:
        verbose_name = "复工报备 return-to-work filing"
        verbose_name_plural = "复工报备 return-to-work filings"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["district", "status"], name="filing_district_status")]
        constraints = [
            models.UniqueConstraint(fields=["enterprise"], condition=Q(status__in=[s.value for s in PENDING]),
                                    name="filing_one_pending_per_enterprise"),
            models.CheckConstraint(condition=Q(staff_returning__lte=models.F("staff_total")),
                                   name="filing_returning_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class FilingEvent(models.Model):
    """One step on a filing's history (append-only; the enterprise sees all of it)."""

    filing = models.ForeignKey(ReturnToWorkFiling, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作 action", max_length=20)
    from_status = models.CharField("原状态 from", max_length=12, blank=True)
    to_status = models.CharField("新状态 to", max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_label = models.CharField("操作人 by", max_length=150)
    at = models.DateTimeField("时间 at", default=timezone.now)
    note = models.TextField("说明 note", blank=True)

    class Meta:
        verbose_name = "报备记录 filing event"
        verbose_name_plural = "报备记录 filing events"
        ordering = ["at", "id"]


class AttachmentKind(models.TextChoices):
    DOCUMENT = "document", "报备材料 document"
    PHOTO = "photo", "核查照片 on-site photo"


class FilingAttachment(models.Model):
    filing = models.ForeignKey(ReturnToWorkFiling, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("类型 kind", max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(upload_to="resumption/%Y/%m/")
    name = models.CharField("文件名 name", max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "报备附件 filing attachment"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class DifficultyKind(models.TextChoices):
    STAFF = "staff", "用工 staff"
    MATERIALS = "materials", "原材料 raw materials"
    LOGISTICS = "logistics", "物流 logistics"
    SUPPLIERS = "suppliers", "上游供应商未复工 suppliers not back"
    FUNDS = "funds", "资金 funds"
    ORDERS = "orders", "订单 orders"
    OTHER = "other", "其他 other"


class DailyCheck(models.Model):
    """One enterprise's report for one day (每日排查). The dimensions are copied from the registry when
    first reported, so the rollup and the raw rows group the same way."""

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="daily_checks",
                                   db_index=False, verbose_name="企业 enterprise")
    day = models.DateField("日期 day")
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, db_index=False,
                                 verbose_name="所属区 district")
    industry_section = models.CharField("行业门类 industry section", max_length=1)
    size_class = models.CharField("企业规模 size", max_length=10)
    is_key = models.BooleanField("重点企业 key enterprise", default=False)
    is_open = models.BooleanField("是否开工 open")
    staff_total = models.PositiveIntegerField("员工总数 total staff")
    staff_returned = models.PositiveIntegerField("已返岗 returned")
    staff_on_site = models.PositiveIntegerField("在岗 on site")
    capacity_pct = models.PositiveSmallIntegerField("产能恢复（%） capacity")
    suspected_cases = models.PositiveIntegerField("疑似病例 suspected", default=0)
    confirmed_cases = models.PositiveIntegerField("确诊病例 confirmed", default=0)
    on_time = models.BooleanField("按时报送 on time")
    source = models.CharField("来源 source", max_length=10, default="web")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", db_index=False)
    submitted_at = models.DateTimeField("首次报送 first submitted", default=timezone.now)
    updated_at = models.DateTimeField("最后更正 last corrected", default=timezone.now)

    class Meta:
        verbose_name = "每日排查 daily check"
        verbose_name_plural = "每日排查 daily checks"
        ordering = ["-day", "enterprise_id"]
        indexes = [models.Index(fields=["day", "district"], name="dailycheck_day_district")]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "day"], name="dailycheck_one_per_day"),
            models.CheckConstraint(condition=Q(staff_returned__lte=models.F("staff_total")),
                                   name="dailycheck_returned_within_total"),
            models.CheckConstraint(condition=Q(staff_on_site__lte=models.F("staff_returned")),
                                   name="dailycheck_on_site_within_returned"),
            models.CheckConstraint(condition=Q(capacity_pct__gte=0, capacity_pct__lte=100),
                                   name="dailycheck_capacity_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.day}"


class Difficulty(models.Model):
    """A difficulty reported on a day; one marked as needing help is on the district's follow-up list."""

    daily_check = models.ForeignKey(DailyCheck, on_delete=models.CASCADE, related_name="difficulties")
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   db_index=False)
    day = models.DateField("日期 day")
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, db_index=False)
    kind = models.CharField("困难类型 kind", max_length=12, choices=DifficultyKind.choices)
    note = models.CharField("说明 note", max_length=500, blank=True)
    needs_help = models.BooleanField("需要协调 needs help", default=False)
    followed_up_at = models.DateTimeField("跟进时间 followed up", null=True, blank=True)
    followed_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    follow_up_note = models.CharField("跟进情况 follow-up note", max_length=500, blank=True)

    class Meta:
        verbose_name = "经营困难 difficulty"
        verbose_name_plural = "经营困难 difficulties"
        ordering = ["-day", "id"]
        indexes = [models.Index(fields=["day", "district", "kind"], name="difficulty_day_district"),
                   models.Index(fields=["district", "needs_help", "followed_up_at"], name="difficulty_follow_up")]
        constraints = [models.UniqueConstraint(fields=["daily_check", "kind"], name="difficulty_one_per_kind")]


class DailyRollup(models.Model):
    """Sums of the daily checks per day × district × industry section × size class × key flag.

    Kept by the daily-check service (one upsert per report) and rebuilt set-based by
    ``huiqi resumption rollup``; the dashboard reads this, never the raw checks."""

    day = models.DateField()
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, db_index=False)
    industry_section = models.CharField(max_length=1)
    size_class = models.CharField(max_length=10)
    is_key = models.BooleanField()
    reports = models.IntegerField(default=0)
    on_time = models.IntegerField(default=0)
    open_count = models.IntegerField(default=0)
    staff_total = models.BigIntegerField(default=0)
    staff_returned = models.BigIntegerField(default=0)
    staff_on_site = models.BigIntegerField(default=0)
    capacity_sum = models.BigIntegerField(default=0)  # over open enterprises
    suspected_cases = models.IntegerField(default=0)
    confirmed_cases = models.IntegerField(default=0)

    class Meta:
        verbose_name = "排查日汇总 daily rollup"
        constraints = [models.UniqueConstraint(fields=["day", "district", "industry_section", "size_class",
                                                       "is_key"], name="rollup_one_per_group")]
