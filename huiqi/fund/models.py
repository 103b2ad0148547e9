"""The stable-development fund's tables: applications through the two channels with their stage history
and clocks, decisions (maker and checker), tranches and repayments. Money is whole fen; rates exact."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiqi.core.uploads import UploadRecord

from . import rules

LIVE = sorted(rules.LIVE_STATES)


class ApplicationQuerySet(models.QuerySet):
    def for_user(self, user):
        from .permissions import scope_applications

        return scope_applications(user, self)


class Application(models.Model):
    """An enterprise's application for short-term liquidity (资金申请), registered at one channel."""

    class Source(models.TextChoices):
        PAGE = "page", _("渠道录入")
        FILE = "file", _("文件导入")
        API = "api", _("接口报送")
        ONLINE = "online", _("企业网上申请")

    number = models.CharField(_("申请编号"), max_length=20, unique=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18)
    enterprise = models.ForeignKey("registry.Enterprise", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="fund_applications", verbose_name=_("企业"))
    channel = models.CharField(_("渠道"), max_length=10)
    institution = models.ForeignKey("registry.FundInstitution", on_delete=models.PROTECT,
                                    related_name="fund_applications", verbose_name=_("实施机构"))
    requested_fen = models.BigIntegerField(_("申请金额（分）"))
    purpose = models.CharField(_("资金用途"), max_length=300, blank=True)
    term_months = models.PositiveSmallIntegerField(_("申请期限（月）"))
    received_date = models.DateField(_("受理日期"))
    impact = models.TextField(_("疫情对现金流的影响"), blank=True)
    source = models.CharField(_("申请方式"), max_length=10, choices=Source.choices, default=Source.PAGE)
    state = models.CharField(_("状态"), max_length=20, choices=list(rules.STATES.items()), default="received")
    reasons = models.JSONField(_("预审未通过原因"), default=list, blank=True)
    priority = models.BooleanField(_("优先支持"), default=False)
    priority_reason = models.CharField(_("优先支持理由"), max_length=30, blank=True,
                                       choices=list(rules.PRIORITY_REASONS.items()))
    priority_note = models.CharField(_("优先支持说明"), max_length=300, blank=True)
    transferred_from = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="transferred_to", verbose_name=_("转自申请"))
    withdrawal_reason = models.CharField(_("撤回原因"), max_length=40, blank=True,
                                         choices=list(rules.WITHDRAWAL_REASONS.items()))
    # The decision: proposed by one person at the channel, confirmed by another.
    proposed_outcome = models.CharField(_("拟决策"), max_length=10, blank=True,
                                        choices=[("approve", _("批准")), ("reject", _("不批准"))])
    proposed_fen = models.BigIntegerField(_("拟批准金额（分）"), null=True, blank=True)
    proposed_rate = models.DecimalField(_("拟定利率"), max_digits=9, decimal_places=6, null=True, blank=True)
    proposed_term_months = models.PositiveSmallIntegerField(_("拟定期限（月）"), null=True, blank=True)
    rejection_reason = models.CharField(_("不批准原因"), max_length=40, blank=True,
                                        choices=list(rules.REJECTION_REASONS.items()))
    decision_note = models.CharField(_("决策说明"), max_length=500, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("提议人"))
    approved_fen = models.BigIntegerField(_("批准金额（分）"), null=True, blank=True)
    capped = models.BooleanField(_("受单户上限限制"), default=False)
    rate = models.DecimalField(_("年利率"), max_digits=9, decimal_places=6, null=True, blank=True)
    decision_term_months = models.PositiveSmallIntegerField(_("批准期限（月）"), null=True, blank=True)
    decided_on = models.DateField(_("决策日期"), null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("复核人"))
    contract_date = models.DateField(_("签约日期"), null=True, blank=True)
    maturity_date = models.DateField(_("到期日"), null=True, blank=True)
    disbursed_fen = models.BigIntegerField(_("已放款（分）"), default=0)
    cancelled_fen = models.BigIntegerField(_("取消未放金额（分）"), default=0)
    cancelled_on = models.DateField(_("取消日期"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    # The channel's 申请登记 file the application was registered from (none for the other sources).
    upload = models.ForeignKey("StatusUpload", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="applications", verbose_name=_("登记文件"))

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("平稳发展基金申请")
        verbose_name_plural = pgettext_lazy("plural", "平稳发展基金申请")
        ordering = ["-received_date", "-id"]
        indexes = [
            models.Index(fields=["channel", "state"], name="fund_app_channel_state"),
            models.Index(fields=["received_date"], name="fund_app_received"),
            models.Index(fields=["uscc"], name="fund_app_uscc"),
            # A channel's list (the ageing list): its live states, in the list's order.
            models.Index(fields=["institution", "state", "priority", "received_date", "id"],
                         name="fund_app_ageing"),
        ]
        constraints = [
            # One live application per enterprise across both channels, held by the database too.
            models.UniqueConstraint(fields=["uscc"], condition=Q(state__in=LIVE), name="fund_one_live_application"),
            models.CheckConstraint(condition=Q(requested_fen__gt=0), name="fund_requested_positive"),
            models.CheckConstraint(condition=Q(approved_fen__isnull=True) | Q(approved_fen__lte=F("requested_fen")),
                                   name="fund_approved_within_requested"),
            models.CheckConstraint(condition=Q(disbursed_fen__gte=0) & (
                Q(approved_fen__isnull=True, disbursed_fen=0)
                | Q(disbursed_fen__lte=F("approved_fen") - F("cancelled_fen"))),
                name="fund_disbursed_within_approved"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_live(self) -> bool:
        return self.state in rules.LIVE_STATES

    @property
    def first_reason(self) -> str:
        return self.reasons[0] if self.reasons else ""


class StageClock(models.Model):
    """One stage of an application with its working-day clock: entered, due (moved by closed pauses), done."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="stages",
                                    verbose_name=_("申请"))
    stage = models.CharField(_("环节"), max_length=20, choices=list(rules.STAGES.items()))
    entered = models.DateField(_("进入日期"))
    sla_days = models.PositiveSmallIntegerField(_("时限（工作日）"))
    due = models.DateField(_("到期日"))
    done = models.DateField(_("完成日期"), null=True, blank=True)
    paused_since = models.DateField(_("暂停自"), null=True, blank=True)

    class Meta:
        verbose_name = _("办理环节")
        verbose_name_plural = pgettext_lazy("plural", "办理环节")
        ordering = ["application_id", "entered", "id"]
        indexes = [models.Index(fields=["done", "due"], name="fund_stage_open_due")]
        constraints = [models.UniqueConstraint(fields=["application", "stage"], name="fund_stage_once")]

    def __str__(self) -> str:
        return f"{self.application} {self.get_stage_display()}"


class Pause(models.Model):
    """The channel waited for the enterprise from ``start`` to ``end`` (open while ``end`` is empty)."""

    stage = models.ForeignKey(StageClock, on_delete=models.CASCADE, related_name="pauses", verbose_name=_("环节"))
    start = models.DateField(_("暂停日期"))
    end = models.DateField(_("恢复日期"), null=True, blank=True)
    note = models.CharField(_("等待企业补充的内容"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("暂停计时")
        verbose_name_plural = pgettext_lazy("plural", "暂停计时")
        ordering = ["stage_id", "start"]


class StageEvent(models.Model):
    """The stage history: who moved the application from one state to another, when, with what note."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events",
                                    verbose_name=_("申请"))
    day = models.DateField(_("业务日期"))
    at = models.DateTimeField(_("记录时间"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("经办人"))
    from_state = models.CharField(_("原状态"), max_length=20, blank=True, choices=list(rules.STATES.items()))
    to_state = models.CharField(_("新状态"), max_length=20, choices=list(rules.STATES.items()))
    note = models.CharField(_("说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = pgettext_lazy("plural", "办理记录")
        ordering = ["application_id", "at", "id"]


class Tranche(models.Model):
    """One disbursement (放款) of an approved, contracted application."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="tranches",
                                    verbose_name=_("申请"))
    day = models.DateField(_("放款日期"), db_index=True)
    amount_fen = models.BigIntegerField(_("放款金额（分）"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("经办人"))
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("放款")
        verbose_name_plural = pgettext_lazy("plural", "放款")
        ordering = ["application_id", "day", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="fund_tranche_positive")]


class Repayment(models.Model):
    """A repayment of principal (early or at maturity) or a payment of interest."""

    class Kind(models.TextChoices):
        PRINCIPAL = "principal", _("本金")
        INTEREST = "interest", _("利息")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="repayments",
                                    verbose_name=_("申请"))
    day = models.DateField(_("还款日期"))
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("经办人"))
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("还款")
        verbose_name_plural = pgettext_lazy("plural", "还款")
        ordering = ["application_id", "day", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="fund_repayment_positive")]


class _FunnelFigures(models.Model):
    """What a group (a channel, a district, an industry section, the whole fund) gained on a day."""

    dimension = models.CharField(_("分组方式"), max_length=10)
    group_key = models.CharField(_("分组"), max_length=20)
    day = models.DateField(_("日期"))
    applied = models.IntegerField(_("新增申请企业"), default=0)
    decided = models.IntegerField(_("新增获决策支持企业"), default=0)
    decided_fen = models.BigIntegerField(_("新增决策金额（分）"), default=0)
    paid = models.IntegerField(_("新增已放款企业"), default=0)
    paid_fen = models.BigIntegerField(_("新增放款金额（分）"), default=0)

    class Meta:
        abstract = True


class FunnelDay(_FunnelFigures):
    """The funnel's daily roll-up, kept by the services with every write that moves it (registration,
    decision, cancellation, tranche): what each group (a channel, a district, an industry section, the whole
    fund) gained on a day — enterprises counted from their first day in the group, amounts from their own.
    The funnel at X is the sum of the days up to X (``selectors.funnel_groups``)."""

    class Meta:
        verbose_name = _("申请决策放款日汇总")
        verbose_name_plural = pgettext_lazy("plural", "申请决策放款日汇总")
        constraints = [models.UniqueConstraint(fields=["dimension", "group_key", "day"], name="fund_funnel_day_once")]


class FunnelEntry(_FunnelFigures):
    """One enterprise's part of ``FunnelDay`` as last added, so that the next write replaces exactly it."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)

    class Meta:
        verbose_name = _("企业申请决策放款汇总")
        verbose_name_plural = pgettext_lazy("plural", "企业申请决策放款汇总")


class StatusUpload(UploadRecord):
    """One file a channel sent, of one of two kinds: the applications it received (申请登记, each row through
    ``services.register``) or their status (放款、还款、展期、结清 by application number, each row through the
    page action's service). Stored whole, or refused whole with every bad row named."""

    class Kind(models.TextChoices):
        STATUS = "status", _("办理情况")
        APPLICATIONS = "applications", _("申请登记")

    kind = models.CharField(_("文件类型"), max_length=12, choices=Kind.choices, default=Kind.STATUS)
    institution = models.ForeignKey("registry.FundInstitution", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("实施机构"))

    class Meta(UploadRecord.Meta):
        verbose_name = _("基金渠道报送文件")
        verbose_name_plural = pgettext_lazy("plural", "基金渠道报送文件")
