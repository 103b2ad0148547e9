"""Interest-subsidy batches (贴息批次): each loan's line, each beneficiary's payment, in whole fen.

A batch is cumulative (``specs/interest-subsidy.md``): it recomputes every entitlement up to its
cutoff and pays what earlier batches have not. What counts as "paid before" is the payable of every
payment of a *released* batch that the bank did not report as failed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from huiqi.core.money import fen_to_yuan


class BatchStatus(models.TextChoices):
    RUN = "run", _("已计算")
    REVIEWED = "reviewed", _("已复核")
    APPROVED = "approved", _("已审批")
    RELEASED = "released", _("已拨付")
    CANCELLED = "cancelled", _("已作废")


# The state machine of a batch: (from, to) → the service that performs it. Nothing else moves a
# batch. A batch that turns out wrong before release is cancelled (and a new one run); a released
# batch is final: corrections go into the next batch, which is cumulative.
BATCH_TRANSITIONS: dict[tuple[str, str], str] = {
    (BatchStatus.RUN, BatchStatus.REVIEWED): "review",
    (BatchStatus.REVIEWED, BatchStatus.APPROVED): "approve",
    (BatchStatus.APPROVED, BatchStatus.RELEASED): "release",
    (BatchStatus.RUN, BatchStatus.CANCELLED): "cancel",
    (BatchStatus.REVIEWED, BatchStatus.CANCELLED): "cancel",
    (BatchStatus.APPROVED, BatchStatus.CANCELLED): "cancel",
}
OPEN_STATUSES = (BatchStatus.RUN, BatchStatus.REVIEWED, BatchStatus.APPROVED)


class PaymentStatus(models.TextChoices):
    NOTHING = "nothing", _("无需支付")
    PENDING = "pending", _("待支付")
    PAID = "paid", _("已支付")
    FAILED = "failed", _("支付失败")


# What a bank's reconciliation may say of a payment; a repeat of the same status changes nothing.
PAYMENT_TRANSITIONS: dict[tuple[str, str], str] = {
    (PaymentStatus.PENDING, PaymentStatus.PAID): "reconcile",
    (PaymentStatus.PENDING, PaymentStatus.FAILED): "reconcile",
}


class ReconciliationStatus(models.TextChoices):
    PREPARED = "prepared", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已退回")


# A reconciliation file's two-person path: (from, to) → the service that performs it.
RECONCILIATION_TRANSITIONS: dict[tuple[str, str], str] = {
    (ReconciliationStatus.PREPARED, ReconciliationStatus.CONFIRMED): "confirm_reconciliation",
    (ReconciliationStatus.PREPARED, ReconciliationStatus.REJECTED): "reject_reconciliation",
}


def _user_fk(label: str):
    return models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=label)


class SubsidyBatch(models.Model):
    """One calculation of the program up to a cutoff date, and its way to the payment file.

    ``params`` are the parameters as used (the spec's names, JSON-ready). Totals are whole fen;
    ``rationing_factor`` is the exact fraction "num/den" when the budget was short, else empty.
    ``created_by`` is who ran it (on a page, through the API, or named by ``huiqi subsidy run --as``);
    batches of the headless command before it named its user have none, and are not moved.
    """

    cutoff = models.DateField(_("截止日期"))
    params = models.JSONField(_("计算参数"))
    status = models.CharField(_("状态"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.RUN,
                              db_index=True)
    created_by = _user_fk(_("计算人"))
    created_at = models.DateTimeField(_("计算时间"), default=timezone.now)
    reviewed_by = _user_fk(_("复核人"))
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    approved_by = _user_fk(_("审批人"))
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    released_by = _user_fk(_("拨付人"))
    released_at = models.DateTimeField(_("拨付时间"), null=True, blank=True)
    cancelled_by = _user_fk(_("作废人"))
    cancelled_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)

    beneficiaries = models.PositiveIntegerField(_("受益人数"), default=0)
    loans_counted = models.PositiveIntegerField(_("计入贷款笔数"), default=0)
    due_total_fen = models.BigIntegerField(_("应付合计（分）"), default=0)
    payable_total_fen = models.BigIntegerField(_("实付合计（分）"), default=0)
    overpayment_total_fen = models.BigIntegerField(_("多付待追回（分）"), default=0)
    spent_before_fen = models.BigIntegerField(_("此前已拨付（分）"), default=0)
    budget_left_fen = models.BigIntegerField(_("剩余预算（分）"), default=0)
    rationing_factor = models.CharField(_("分配系数"), max_length=100, blank=True)
    unspent_fen = models.BigIntegerField(_("结余（分）"), default=0)
    over_budget = models.BooleanField(_("超预算"), default=False)
    output_dir = models.CharField(_("支付文件目录"), max_length=500, blank=True)
    # The background job that ran it (page and API): a job taken over from a dead worker finds its batch.
    run_job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("计算任务"))

    class Meta:
        verbose_name = _("贴息批次")
        verbose_name_plural = pgettext_lazy("plural", "贴息批次")
        ordering = ["-cutoff", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(due_total_fen__gte=0), name="subsidy_batch_due_not_negative"),
            models.CheckConstraint(condition=Q(payable_total_fen__gte=0),
                                   name="subsidy_batch_payable_not_negative"),
            models.CheckConstraint(condition=Q(payable_total_fen__lte=F("due_total_fen")),
                                   name="subsidy_batch_payable_within_due"),
            models.CheckConstraint(condition=Q(overpayment_total_fen__gte=0),
                                   name="subsidy_batch_overpayment_not_negative"),
            models.CheckConstraint(condition=Q(spent_before_fen__gte=0),
                                   name="subsidy_batch_spent_not_negative"),
            models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="subsidy_batch_status_valid"),
        ]

    def __str__(self) -> str:
        return _("贴息批次 #%(pk)s（截至 %(cutoff)s）") % {"pk": self.pk, "cutoff": self.cutoff}

    @property
    def payable_total(self):
        return fen_to_yuan(self.payable_total_fen)


class SubsidyLoanLine(models.Model):
    """What a batch decided for one loan: counted or not (with the first failing reason), and its subsidy."""
    # A batch writes a line per loan of the city, on PostgreSQL into a partition of its own (``partitions``,
    # ``subsidy.0010``), whose indexes are built once when it is attached. Its indexes: the unique (batch,
    # loan) one (every lookup by batch: a batch's pages, files and totals), the loan's (an enterprise's and a
    # bank's lines are found by their loans; a loan's delete checks it), and on PostgreSQL a plain one on
    # ``id`` (a line by its id; no primary key there, which would have to hold the batch). None of its own
    # for the batch, none for the beneficiary (no query finds lines by it: a search names the batch and
    # matches part of the identifier). Both references are checked per statement, not per line
    # (``core.references``, ``subsidy.0005``, ``subsidy.0007``), and a run checks its loans by one join.
    batch = models.ForeignKey(SubsidyBatch, on_delete=models.CASCADE, related_name="loan_lines", db_index=False,
                              db_constraint=False, verbose_name=_("贴息批次"))

    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, related_name="subsidy_lines",
                             verbose_name=_("贷款"), db_constraint=False)
    beneficiary_id = models.CharField(_("受益人证件号码"), max_length=18)
    eligible = models.BooleanField(_("计入"))
    reason = models.CharField(_("不计入原因"), max_length=60, blank=True)
    interest_counted_fen = models.BigIntegerField(_("计入利息（分，四舍五入显示）"),
                                                  null=True, blank=True)
    subsidy_fen = models.BigIntegerField(_("贴息金额（分）"), null=True, blank=True)

    class Meta:
        verbose_name = _("贴息贷款明细")
        verbose_name_plural = pgettext_lazy("plural", "贴息贷款明细")
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "loan"], name="subsidy_line_one_per_loan"),
            models.CheckConstraint(
                condition=(Q(eligible=True, reason="", subsidy_fen__isnull=False, subsidy_fen__gte=0,
                             interest_counted_fen__isnull=False, interest_counted_fen__gte=0)
                           | Q(eligible=False, subsidy_fen__isnull=True, interest_counted_fen__isnull=True)
                           & ~Q(reason="")),
                name="subsidy_line_eligible_has_amounts",
            ),
        ]


def _mask_beneficiary(value: str) -> str:
    from huiqi.lending.selectors import mask_borrower_id

    return mask_borrower_id(value)


class SubsidyPayment(models.Model):
    """One beneficiary's account in a batch: entitlement so far, what was paid before, what is paid now.

    ``payable_fen`` is what goes into the payment file. A line with nothing to pay (``nothing``)
    still records an overpayment to recover, if any.
    """

    # On PostgreSQL a batch's payments are a partition of their own (``partitions``, ``subsidy.0010``). The
    # unique (batch, beneficiary) index serves lookups by batch (pages, payment file, reconciliation), the
    # (beneficiary, batch) one what was paid before and an enterprise's payments, the reconciler's (where
    # set) ``PROTECT``, and on PostgreSQL a plain one on ``id`` stands for the primary key. The batch's
    # reference is checked per statement (``subsidy.0005``).
    batch = models.ForeignKey(SubsidyBatch, on_delete=models.CASCADE, related_name="payments",
                              db_index=False, db_constraint=False, verbose_name=_("贴息批次"))
    beneficiary_id = models.CharField(_("受益人证件号码"), max_length=18)
    name = models.CharField(_("受益人名称"), max_length=200, blank=True)
    kind = models.CharField(_("受益人类型"), max_length=20, blank=True)
    loans_counted = models.PositiveIntegerField(_("计入贷款笔数"))
    interest_counted_fen = models.BigIntegerField(_("计入利息（分，四舍五入显示）"))
    subsidy_before_cap_fen = models.BigIntegerField(_("封顶前贴息（分）"))
    entitlement_fen = models.BigIntegerField(_("应享贴息（分）"))
    paid_before_fen = models.BigIntegerField(_("此前已付（分）"))
    due_fen = models.BigIntegerField(_("应付（分）"))
    payable_fen = models.BigIntegerField(_("本批实付（分）"))
    overpayment_fen = models.BigIntegerField(_("多付待追回（分）"))
    status = models.CharField(_("支付状态"), max_length=10, choices=PaymentStatus.choices)
    reconciled_at = models.DateTimeField(_("对账时间"), null=True, blank=True)
    # Set only once a bank's file is confirmed: indexed where set (a run writes every payment without one).
    reconciled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("对账人"), db_index=False)
    reconcile_note = models.CharField(_("银行说明"), max_length=300, blank=True)

    AUDIT_MASK = {"beneficiary_id": _mask_beneficiary}  # a small-business owner's resident ID

    class Meta:
        verbose_name = _("贴息支付")
        verbose_name_plural = pgettext_lazy("plural", "贴息支付")
        ordering = ["batch", "beneficiary_id"]
        indexes = [models.Index(fields=["beneficiary_id", "batch"], name="subsidy_payment_beneficiary"),
                   models.Index(fields=["reconciled_by"], condition=Q(reconciled_by__isnull=False),
                                name="subsidy_payment_reconciler")]
        constraints = [
            models.UniqueConstraint(fields=["batch", "beneficiary_id"], name="subsidy_payment_one_per_beneficiary"),
            models.CheckConstraint(
                condition=Q(interest_counted_fen__gte=0, subsidy_before_cap_fen__gte=0, entitlement_fen__gte=0,
                            paid_before_fen__gte=0, due_fen__gte=0, payable_fen__gte=0, overpayment_fen__gte=0),
                name="subsidy_payment_amounts_not_negative",
            ),
            models.CheckConstraint(condition=Q(entitlement_fen__lte=F("subsidy_before_cap_fen")),
                                   name="subsidy_payment_entitlement_within_subsidy"),
            models.CheckConstraint(condition=Q(due_fen__lte=F("entitlement_fen")),
                                   name="subsidy_payment_due_within_entitlement"),
            models.CheckConstraint(condition=Q(payable_fen__lte=F("due_fen")),
                                   name="subsidy_payment_payable_within_due"),
            models.CheckConstraint(
                condition=Q(payable_fen=0, status=PaymentStatus.NOTHING)
                | Q(payable_fen__gt=0, status__in=[PaymentStatus.PENDING, PaymentStatus.PAID, PaymentStatus.FAILED]),
                name="subsidy_payment_status_matches_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or _mask_beneficiary(self.beneficiary_id)} #{self.batch_id}"


class SubsidyReconciliation(models.Model):
    """A bank's reconciliation file of a released batch (银行对账), on its two-person path: uploaded and
    checked whole by one person (``prepared``: no payment changes yet), then ``confirmed`` by another,
    when each payment it names becomes paid or failed, or ``rejected`` (sent back by either).

    ``changes`` are the payments it changes, as checked on upload: ``[beneficiary_id, new status, bank's
    note, row of the file]``; ``unchanged`` counts the rows that repeat a payment's status.
    """

    batch = models.ForeignKey(SubsidyBatch, on_delete=models.CASCADE, related_name="reconciliations",
                              verbose_name=_("贴息批次"))
    status = models.CharField(_("状态"), max_length=10, choices=ReconciliationStatus.choices,
                              default=ReconciliationStatus.PREPARED)
    file_name = models.CharField(_("文件名"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("文件 SHA-256"), max_length=64, blank=True)
    changes = models.JSONField(_("变更"), default=list)
    paid = models.PositiveIntegerField(_("标记已支付"), default=0)
    failed = models.PositiveIntegerField(_("标记失败"), default=0)
    unchanged = models.PositiveIntegerField(_("无变化"), default=0)
    prepared_by = _user_fk(_("上传人"))
    prepared_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    decided_by = _user_fk(_("确认或退回人"))
    decided_at = models.DateTimeField(_("确认或退回时间"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("贴息对账")
        verbose_name_plural = pgettext_lazy("plural", "贴息对账")
        ordering = ["-prepared_at", "-id"]
        constraints = [
            # One file waits per batch: the second would be checked against statuses the first changes.
            models.UniqueConstraint(fields=["batch"], condition=Q(status=ReconciliationStatus.PREPARED),
                                    name="subsidy_reconciliation_one_waiting"),
            models.CheckConstraint(condition=Q(status__in=ReconciliationStatus.values),
                                   name="subsidy_reconciliation_status_valid"),
            # Four eyes in the database too: the one who uploaded a file never confirmed it.
            models.CheckConstraint(condition=~Q(status=ReconciliationStatus.CONFIRMED)
                                   | ~Q(decided_by=F("prepared_by")),
                                   name="subsidy_reconciliation_confirmed_by_another"),
        ]

    def __str__(self) -> str:
        return _("对账 #%(pk)s（贴息批次 #%(batch)s）") % {"pk": self.pk, "batch": self.batch_id}
