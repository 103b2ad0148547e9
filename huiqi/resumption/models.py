"""Return to work: filings (复工报备) with their on-site check and history, daily checks (每日排查) with
difficulties, and the daily rollup the dashboard reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from huiqi.core.i18n import localized


class ChecklistGroup(models.TextChoices):
    FOUR_IN_PLACE = "four_in_place", _("四个到位")
    EIGHT_IMPLEMENTED = "eight_implemented", _("八个落实")


class ChecklistItem(models.Model):
    """One prevention condition an enterprise confirms when it files; data the bureau edits, with dates."""

    code = models.CharField(_("代码"), max_length=40)
    group = models.CharField(_("分组"), max_length=20, choices=ChecklistGroup.choices)
    text = models.CharField(_("内容"), max_length=200)
    text_en = models.CharField(_("英文"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("防控条件")
        verbose_name_plural = pgettext_lazy("plural", "防控条件")
        ordering = ["group", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="checklist_code_date_unique"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gt=models.F("effective_from")),
                                   name="checklist_dates_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} · {localized(self, 'text')}"


class FilingKind(models.TextChoices):
    FILING = "filing", _("复工报备")
    DECLARATION = "declaration", _("复工申报")


class FilingStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ASSIGNED = "assigned", _("已派核查员")
    INSPECTED = "inspected", _("已现场核查")
    APPROVED = "approved", pgettext_lazy("status", "同意复工")
    RETURNED = "returned", _("已退回")
    DECLARED = "declared", _("已申报复工")


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
    PASSED = "passed", _("符合复工条件")
    FAILED = "failed", _("不符合复工条件")


class ReturnToWorkFiling(models.Model):
    """An enterprise's filing to resume work (复工报备), or after the switch its declaration (复工申报)."""

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="filings",
                                   verbose_name=_("企业"))
    # The district that handles it: the enterprise's when filed.
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, verbose_name=_("所属区"))
    kind = models.CharField(_("类型"), max_length=12, choices=FilingKind.choices, default=FilingKind.FILING)
    status = models.CharField(_("状态"), max_length=12, choices=FilingStatus.choices, db_index=True)
    planned_date = models.DateField(_("计划复工日期"))
    staff_total = models.PositiveIntegerField(_("员工总数"), default=0)
    staff_returning = models.PositiveIntegerField(_("返岗人数"), default=0)
    staff_from_outside = models.PositiveIntegerField(_("省外返深人数"), default=0)
    staff_in_quarantine = models.PositiveIntegerField(_("隔离观察人数"), default=0)
    checklist = models.JSONField(_("防控条件"), default=list, blank=True)
    masks = models.PositiveIntegerField(_("口罩（只）"), default=0)
    thermometers = models.PositiveIntegerField(_("体温计（支）"), default=0)
    disinfectant_litres = models.PositiveIntegerField(_("消毒液（升）"), default=0)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("核查员"))
    check_result = models.CharField(_("核查结果"), max_length=10, choices=CheckResult.choices, blank=True)
    check_findings = models.TextField(_("核查发现"), blank=True)
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("提交人"))
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("复工报备")
        verbose_name_plural = pgettext_lazy("plural", "复工报备")
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

    filing = models.ForeignKey(ReturnToWorkFiling, on_delete=models.CASCADE, related_name="events",
                               verbose_name=_("报备"))
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name=_("操作人"))
    actor_label = models.CharField(_("操作人"), max_length=150)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("报备记录")
        verbose_name_plural = pgettext_lazy("plural", "报备记录")
        ordering = ["at", "id"]


class AttachmentKind(models.TextChoices):
    DOCUMENT = "document", _("报备材料")
    PHOTO = "photo", _("核查照片")


class FilingAttachment(models.Model):
    filing = models.ForeignKey(ReturnToWorkFiling, on_delete=models.CASCADE, related_name="attachments",
                               verbose_name=_("报备"))
    kind = models.CharField(_("类型"), max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to="resumption/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("报备附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class DifficultyKind(models.TextChoices):
    STAFF = "staff", _("用工")
    MATERIALS = "materials", _("原材料")
    LOGISTICS = "logistics", _("物流")
    SUPPLIERS = "suppliers", _("上游供应商未复工")
    FUNDS = "funds", _("资金")
    ORDERS = "orders", _("订单")
    OTHER = "other", _("其他")


class DailyCheck(models.Model):
    """One enterprise's report for one day (每日排查). The dimensions are copied from the registry when
    first reported, so the rollup and the raw rows group the same way."""

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="daily_checks",
                                   db_index=False, verbose_name=_("企业"))
    day = models.DateField(_("日期"))
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, db_index=False,
                                 verbose_name=_("所属区"))
    industry_section = models.CharField(_("行业门类"), max_length=1)
    size_class = models.CharField(_("企业规模"), max_length=10)
    is_key = models.BooleanField(_("重点企业"), default=False)
    is_open = models.BooleanField(_("是否开工"))
    staff_total = models.PositiveIntegerField(_("员工总数"))
    staff_returned = models.PositiveIntegerField(_("已返岗"))
    staff_on_site = models.PositiveIntegerField(_("在岗"))
    capacity_pct = models.PositiveSmallIntegerField(_("产能恢复（%）"))
    suspected_cases = models.PositiveIntegerField(_("疑似病例"), default=0)
    confirmed_cases = models.PositiveIntegerField(_("确诊病例"), default=0)
    on_time = models.BooleanField(_("按时报送"))
    source = models.CharField(_("来源"), max_length=10, default="web")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", db_index=False, verbose_name=_("报送人"))
    submitted_at = models.DateTimeField(_("首次报送"), default=timezone.now)
    updated_at = models.DateTimeField(_("最后更正"), default=timezone.now)

    class Meta:
        verbose_name = _("每日排查")
        verbose_name_plural = pgettext_lazy("plural", "每日排查")
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

    daily_check = models.ForeignKey(DailyCheck, on_delete=models.CASCADE, related_name="difficulties",
                                    verbose_name=_("每日排查"))
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   db_index=False, verbose_name=_("企业"))
    day = models.DateField(_("日期"))
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, db_index=False,
                                 verbose_name=_("区"))
    kind = models.CharField(_("困难类型"), max_length=12, choices=DifficultyKind.choices)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    needs_help = models.BooleanField(_("需要协调"), default=False)
    followed_up_at = models.DateTimeField(_("跟进时间"), null=True, blank=True)
    followed_up_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", verbose_name=_("跟进人"))
    follow_up_note = models.CharField(_("跟进情况"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("经营困难")
        verbose_name_plural = pgettext_lazy("plural", "经营困难")
        ordering = ["-day", "id"]
        indexes = [models.Index(fields=["day", "district", "kind"], name="difficulty_day_district"),
                   models.Index(fields=["district", "needs_help", "followed_up_at"], name="difficulty_follow_up")]
        constraints = [models.UniqueConstraint(fields=["daily_check", "kind"], name="difficulty_one_per_kind")]


class DailyRollup(models.Model):
    """Sums of the daily checks per day × district × industry section × size class × key flag.

    Kept by the daily-check service (one upsert per report) and rebuilt set-based by
    ``huiqi resumption rollup``; the dashboard reads this, never the raw checks."""

    day = models.DateField(_("日期"))
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, db_index=False,
                                 verbose_name=_("区"))
    industry_section = models.CharField(_("行业门类"), max_length=1)
    size_class = models.CharField(_("企业规模"), max_length=10)
    is_key = models.BooleanField(_("重点企业"))
    reports = models.IntegerField(_("填报数"), default=0)
    on_time = models.IntegerField(_("按时填报数"), default=0)
    open_count = models.IntegerField(_("已开工数"), default=0)
    staff_total = models.BigIntegerField(_("员工总数"), default=0)
    staff_returned = models.BigIntegerField(_("已返岗"), default=0)
    staff_on_site = models.BigIntegerField(_("在岗"), default=0)
    capacity_sum = models.BigIntegerField(_("产能合计"), default=0)  # over open enterprises
    suspected_cases = models.IntegerField(_("疑似病例"), default=0)
    confirmed_cases = models.IntegerField(_("确诊病例"), default=0)

    class Meta:
        verbose_name = _("排查日汇总")
        constraints = [models.UniqueConstraint(fields=["day", "district", "industry_section", "size_class",
                                                       "is_key"], name="rollup_one_per_group")]
