"""The risk-compensation pool's tables: banks' lifecycle, loans' registration and classification, claims,
and the pool's ledger. Money is whole fen; ratios are exact decimals fixed when a loan is registered."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiqi.core.uploads import UploadRecord


class PoolUpload(UploadRecord):
    """One file a bank sent to the pool: its loans' five-tier classifications, or its claims (the
    non-performing loans file of ``bank-data-exchange.md``, one claim per row)."""

    class Kind(models.TextChoices):
        CLASSIFICATIONS = "classifications", _("五级分类")
        CLAIMS = "claims", _("补偿申请（不良贷款）")

    kind = models.CharField(_("文件类型"), max_length=16, choices=Kind.choices)
    bank = models.ForeignKey("registry.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("银行"))

    class Meta(UploadRecord.Meta):
        verbose_name = _("资金池报送文件")
        verbose_name_plural = pgettext_lazy("plural", "资金池报送文件")


class BankEvent(models.Model):
    """One step of a bank's life in the pool: signed (签约) → onboarded (入库) → suspended → (reinstated) →
    exited, each dated, with the agreement's version. The bank's state on a day is its last step by then."""

    class Kind(models.TextChoices):
        SIGNED = "signed", pgettext_lazy("bank", "签约")
        ONBOARDED = "onboarded", pgettext_lazy("bank", "入库")
        SUSPENDED = "suspended", pgettext_lazy("bank", "暂停")
        REINSTATED = "reinstated", pgettext_lazy("bank", "恢复")
        EXITED = "exited", pgettext_lazy("bank", "退出")

    bank = models.ForeignKey("registry.Bank", on_delete=models.PROTECT, related_name="pool_events",
                             verbose_name=_("银行"))
    kind = models.CharField(_("事项"), max_length=12, choices=Kind.choices)
    on = models.DateField(_("日期"))
    agreement_version = models.CharField(_("协议版本"), max_length=40, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("经办人"))
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("合作银行事项")
        verbose_name_plural = pgettext_lazy("plural", "合作银行事项")
        ordering = ["bank_id", "on", "id"]
        constraints = [models.UniqueConstraint(fields=["bank", "kind", "on"], name="pool_bank_event_once_a_day")]

    def __str__(self):
        return f"{self.bank} {self.get_kind_display()} {self.on}"


class Registration(models.Model):
    """A loan in the pool (入库): its ratio, cap and winning row fixed on the day it was registered, or the
    reason it was screened out then."""

    loan = models.OneToOneField("lending.Loan", on_delete=models.CASCADE, related_name="pool_registration",
                                verbose_name=_("贷款"))
    registered_date = models.DateField(_("入库日期"), db_index=True)
    ratio = models.DecimalField(_("补偿比例"), max_digits=5, decimal_places=4)
    cap = models.DecimalField(_("补偿比例上限"), max_digits=5, decimal_places=4)
    row = models.CharField(_("适用规则"), max_length=40, blank=True)
    reason = models.CharField(_("未入库原因"), max_length=40, blank=True)
    repriced_at = models.DateTimeField(_("重新定价时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("入库贷款")
        verbose_name_plural = pgettext_lazy("plural", "入库贷款")
        constraints = [models.CheckConstraint(condition=Q(ratio__gte=0, ratio__lte=1, cap__gte=0, cap__lte=1),
                                              name="pool_registration_ratio_0_1")]

    def __str__(self):
        return f"{self.loan.bank.code}/{self.loan.loan_no}"

    @property
    def covered(self) -> bool:
        return not self.reason


class Classification(models.Model):
    """A bank's five-tier classification of a loan on a day (五级分类); the history is kept. The first day
    a loan is 次级 or worse is its NPL date."""

    class Tier(models.TextChoices):
        NORMAL = "normal", _("正常")
        SPECIAL_MENTION = "special_mention", _("关注")
        SUBSTANDARD = "substandard", _("次级")
        DOUBTFUL = "doubtful", _("可疑")
        LOSS = "loss", _("损失")

    NON_PERFORMING = ("substandard", "doubtful", "loss")

    loan = models.ForeignKey("lending.Loan", on_delete=models.CASCADE, related_name="pool_classifications",
                             verbose_name=_("贷款"))
    on = models.DateField(_("分类日期"))
    tier = models.CharField(_("五级分类"), max_length=16, choices=Tier.choices)
    reported_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    upload = models.ForeignKey(PoolUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("报送文件"))

    class Meta:
        verbose_name = _("贷款五级分类")
        verbose_name_plural = pgettext_lazy("plural", "贷款五级分类")
        ordering = ["loan_id", "on"]
        constraints = [models.UniqueConstraint(fields=["loan", "on"], name="pool_classification_once_a_day")]


class Claim(models.Model):
    """A bank's claim for compensation on a non-performing loan, from filing to payment."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("claim", "已提交")
        RETURNED = "returned", pgettext_lazy("claim", "退回补正")
        REVIEWED = "reviewed", pgettext_lazy("claim", "已审核")
        APPROVED = "approved", pgettext_lazy("claim", "已批准")
        DENIED = "denied", pgettext_lazy("claim", "不予补偿")
        WITHDRAWN = "withdrawn", pgettext_lazy("claim", "已撤回")

    class Outcome(models.TextChoices):
        APPROVE = "approve", pgettext_lazy("outcome", "全额补偿")
        PARTIAL = "partial", pgettext_lazy("outcome", "部分补偿")
        DENY = "deny", pgettext_lazy("outcome", "不予补偿")
        RETURN = "return", pgettext_lazy("outcome", "退回补正")

    OPEN = ("submitted", "returned", "reviewed")

    bank = models.ForeignKey("registry.Bank", on_delete=models.PROTECT, related_name="pool_claims",
                             verbose_name=_("银行"))
    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, related_name="pool_claims",
                             verbose_name=_("贷款"))
    npl_date = models.DateField(_("不良认定日期"))
    outstanding_fen = models.BigIntegerField(_("不良本金（分）"))
    recovered_fen = models.BigIntegerField(_("已回收金额（分）"), default=0)
    loss_fen = models.BigIntegerField(_("损失（分）"), default=0)
    ratio = models.DecimalField(_("补偿比例"), max_digits=5, decimal_places=4, default=0)
    compensation_fen = models.BigIntegerField(_("应补偿金额（分）"), default=0)
    approved_fen = models.BigIntegerField(_("核定补偿金额（分）"), default=0)
    paid_fen = models.BigIntegerField(_("已拨付（分）"), default=0)
    returned_fen = models.BigIntegerField(_("已返还（分）"), default=0)
    clawed_back_fen = models.BigIntegerField(_("追回金额（分）"), default=0)
    clawback_settled_fen = models.BigIntegerField(_("已追回到账（分）"), default=0)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED,
                              db_index=True)
    outcome = models.CharField(_("审批结果"), max_length=10, choices=Outcome.choices, blank=True)
    reason = models.CharField(_("原因代码"), max_length=40, blank=True)
    evidence = models.TextField(_("证明材料说明"), blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=100, blank=True)
    upload = models.ForeignKey(PoolUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims",
                               verbose_name=_("报送文件"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("申请人"))
    filed_on = models.DateField(_("申请日期"))
    filed_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    approval_seq = models.BigIntegerField(_("批准顺序"), null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("补偿申请")
        verbose_name_plural = pgettext_lazy("plural", "补偿申请")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["loan"], condition=Q(status__in=["submitted", "returned", "reviewed"]),
                                    name="pool_one_open_claim_per_loan"),
            models.UniqueConstraint(fields=["bank", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="pool_claim_idempotency"),
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("reviewed_by")),
                                   name="pool_claim_four_eyes"),
            models.CheckConstraint(condition=Q(recovered_fen__gte=0) & Q(recovered_fen__lte=models.F("outstanding_fen")),
                                   name="pool_claim_recovered_within_outstanding"),
            models.CheckConstraint(condition=Q(paid_fen__gte=0) & Q(paid_fen__lte=models.F("approved_fen")),
                                   name="pool_claim_paid_within_approved"),
            models.CheckConstraint(condition=Q(returned_fen__gte=0) & Q(clawed_back_fen__gte=0)
                                   & Q(returned_fen__lte=models.F("paid_fen") - models.F("clawed_back_fen")),
                                   name="pool_claim_returns_within_paid"),
            models.CheckConstraint(condition=Q(clawback_settled_fen__gte=0)
                                   & Q(clawback_settled_fen__lte=models.F("clawed_back_fen")),
                                   name="pool_claim_clawback_settled_within_clawed"),
        ]

    def __str__(self):
        return f"{self.bank.code}/{self.loan.loan_no}"

    @property
    def reason_label(self):
        """The reason code as people read it."""
        from .rules import OUTCOME_REASONS

        return OUTCOME_REASONS.get(self.reason, self.reason) if self.reason else ""

    @property
    def awaiting_evidence(self) -> bool:
        """Filed by file, and the bank has not added its evidence yet: it cannot be approved until it does."""
        return self.upload_id is not None and not self.evidence.strip()

    @property
    def owed_fen(self) -> int:
        return self.approved_fen - self.paid_fen if self.status == self.Status.APPROVED else 0


class PoolEntry(models.Model):
    """One movement of the pool's money. The balance on a day is the sum of the entries up to it."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("注资")
        PAYOUT = "payout", _("补偿拨付")
        RECOVERY_RETURN = "recovery_return", _("追偿返还")
        CLAWBACK = "clawback", _("追回")
        OFFSET = "offset", _("抵扣")

    INFLOWS = ("top_up", "recovery_return", "clawback", "offset")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    on = models.DateField(_("日期"), db_index=True)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="entries",
                              verbose_name=_("补偿申请"))
    bank = models.ForeignKey("registry.Bank", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="pool_entries", verbose_name=_("银行"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("经办人"))
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("资金池收支")
        verbose_name_plural = pgettext_lazy("plural", "资金池收支")
        ordering = ["on", "id"]
        constraints = [
            # Money in is positive, a payout negative: the sign is the kind's, never a typing choice.
            models.CheckConstraint(condition=(Q(kind="payout", amount_fen__lt=0)
                                          | Q(kind__in=["top_up", "recovery_return", "clawback", "offset"],
                                              amount_fen__gt=0)),
                                   name="pool_entry_sign_by_kind"),
            models.CheckConstraint(condition=Q(kind="top_up") | Q(claim__isnull=False), name="pool_entry_claim_named"),
        ]


class Repricing(models.Model):
    """The bureau's deliberate re-pricing of a set of registered loans under the ratio table in force on a day
    (``table_on``): proposed by one person with its preview, approved by another, then applied in a job,
    each changed registration audited with its ratio and cap before and after."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", pgettext_lazy("repricing", "待审批")
        APPROVED = "approved", pgettext_lazy("repricing", "已批准，执行中")
        APPLIED = "applied", pgettext_lazy("repricing", "已执行")
        REJECTED = "rejected", pgettext_lazy("repricing", "已驳回")

    class Product(models.TextChoices):
        ANY = "any", _("所有贷款")
        FIRST_LOAN = "first_loan", _("首贷")
        CREDIT = "credit", _("信用贷款")

    bank = models.ForeignKey("registry.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("银行"))
    registered_from = models.DateField(_("入库日期起"), null=True, blank=True)
    registered_to = models.DateField(_("入库日期止"), null=True, blank=True)
    product = models.CharField(_("贷款品种"), max_length=12, choices=Product.choices, default=Product.ANY)
    table_on = models.DateField(_("按此日生效的比例表"))
    note = models.CharField(_("重新定价原因"), max_length=300)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PROPOSED,
                              db_index=True)
    matched = models.IntegerField(_("涉及入库贷款（笔）"), default=0)
    changed = models.IntegerField(_("比例或上限变化（笔）"), default=0)
    liability_before_fen = models.BigIntegerField(_("重新定价前或有负债（分）"), default=0)
    liability_after_fen = models.BigIntegerField(_("重新定价后或有负债（分）"), default=0)
    applied = models.IntegerField(_("实际重新定价（笔）"), default=0)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("提议人"))
    proposed_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("执行时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("重新定价")
        verbose_name_plural = pgettext_lazy("plural", "重新定价")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposed_by")),
                                   name="pool_repricing_four_eyes"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.table_on}"
