"""The bank loan ledger shared by the finance programs: loans, interest payments, non-performing loans.

Banks report these (``specs/bank-data-exchange.md``); the interest subsidy and the risk-compensation
pool read them. Money is whole fen; a bank sees only its own rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from huiqi.core.fields import CodeField
from huiqi.core.money import fen_to_yuan
from huiqi.core.uploads import UploadRecord


class BorrowerKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")
    BUSINESS_OWNER = "business_owner", _("小微企业主")


class Purpose(models.TextChoices):
    OPERATING = "operating", _("经营性")
    OTHER = "other", _("其他")


class Guarantee(models.TextChoices):
    CREDIT = "credit", _("信用")
    GUARANTEED = "guaranteed", _("保证")
    MORTGAGE = "mortgage", _("抵押")
    PLEDGE = "pledge", _("质押")


class LedgerUpload(UploadRecord):
    """One file a bank (or the bureau for it) sent: loans, interest payments, NPLs, or the bank list."""

    class Kind(models.TextChoices):
        LOANS = "loans", _("贷款台账")
        PAYMENTS = "payments", _("付息明细")
        NPL = "npl", _("不良贷款")
        BANKS = "banks", _("合作银行")

    kind = models.CharField(_("文件类型"), max_length=12, choices=Kind.choices)
    bank = models.ForeignKey("registry.Bank", null=True, blank=True, on_delete=models.PROTECT,
                             help_text=_("上传银行；为空表示由局方上传"), verbose_name=_("银行"))
    idempotency_key = models.CharField(_("幂等键"), max_length=100, blank=True, db_index=True)

    class Meta(UploadRecord.Meta):
        verbose_name = _("银行报送文件")
        verbose_name_plural = pgettext_lazy("plural", "银行报送文件")


class LoanQuerySet(models.QuerySet):
    def for_user(self, user):
        from .permissions import scope_loans

        return scope_loans(user, self)


class Loan(models.Model):
    """A loan as its bank reported it; a later row with the same (bank, loan_no) replaces it."""

    # No index of its own: the unique (bank, loan_no) index serves it (one index less to maintain on load).
    # Checked by triggers once per statement, not by a constraint row by row (migration 0005): a loan's
    # bank must exist, and a bank with loans cannot be deleted.
    bank = models.ForeignKey("registry.Bank", on_delete=models.PROTECT, verbose_name=_("银行"), db_index=False,
                             db_constraint=False)
    loan_no = CodeField(_("贷款合同编号"), max_length=64)
    borrower_id = CodeField(_("借款人证件号码"), max_length=18)
    borrower_name = models.CharField(_("借款人名称"), max_length=200)
    borrower_kind = models.CharField(_("借款人类型"), max_length=20, choices=BorrowerKind.choices)
    owner_of = models.CharField(_("所属企业证件号码"), max_length=18, blank=True)
    purpose = models.CharField(_("贷款用途"), max_length=10, choices=Purpose.choices)
    guarantee = models.CharField(_("担保方式"), max_length=12, choices=Guarantee.choices)
    first_loan = models.BooleanField(_("首贷"))
    principal_fen = models.BigIntegerField(_("贷款金额（分）"))
    annual_rate = models.DecimalField(_("年利率（%）"), max_digits=8, decimal_places=4)
    start_date = models.DateField(_("放款日期"))
    maturity_date = models.DateField(_("到期日期"))
    extension_of = models.CharField(_("原贷款合同编号"), max_length=64, blank=True)
    # The day the loan entered the risk-compensation pool (入库日期): as the bank reported it, else the day of
    # its upload. Null for rows stored before the column existed: those loans are not in the pool.
    registered_date = models.DateField(_("入库日期"), null=True, blank=True)
    # Provenance only: no database constraint (its per-row check cost a third of a bulk load) and no
    # index, as nothing looks rows up by upload (docs/decisions.md); Django still nulls it if an upload
    # record is ever deleted.
    upload = models.ForeignKey(LedgerUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_constraint=False, db_index=False, verbose_name=_("报送文件"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    objects = LoanQuerySet.as_manager()

    AUDIT_MASK = {"borrower_id": lambda v: v if len(v) != 18 or v[:1].isalpha() or v[:2] in ("91", "92")
                  else f"{v[:4]}{'*' * 10}{v[-4:]}"}

    class Meta:
        verbose_name = _("贷款")
        verbose_name_plural = pgettext_lazy("plural", "贷款")
        ordering = ["bank", "loan_no"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "loan_no"], name="loan_unique_per_bank"),
            models.CheckConstraint(condition=models.Q(principal_fen__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(condition=models.Q(maturity_date__gt=models.F("start_date")),
                                   name="loan_matures_after_start"),
        ]
        # borrower_id is looked up by equality only: a plain index (db_index=True would add a second,
        # pattern-matching one on PostgreSQL, one more to maintain on every load). No index on start_date:
        # no query selects loans by it (the subsidy reads the whole ledger), and every bulk load had to
        # build it again (migration 0008).
        indexes = [models.Index(fields=["borrower_id"], name="loan_borrower")]

    def __str__(self) -> str:
        return f"{self.bank.code}/{self.loan_no}"

    @property
    def principal(self):
        return fen_to_yuan(self.principal_fen)


class InterestPayment(models.Model):
    """Interest a borrower actually paid for ``[accrual_start, accrual_end)`` (算头不算尾)."""

    # A payment is its loan's for the period starting on ``accrual_start``: that pair is its key, as the
    # bank's file names it, and the table's primary key (migration 0010). No surrogate id: it cost every
    # bulk load a second index to build and a sequence value and 8 bytes per row (docs/decisions.md).
    pk = models.CompositePrimaryKey("loan_id", "accrual_start")
    # Served by the primary key's index. The reference is checked by triggers, once per statement,
    # instead of a constraint checked row by row (migration 0004, docs/decisions.md): a payment's loan
    # must exist, and a loan with payments cannot be deleted, nor its id changed.
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="payments", db_index=False,
                             db_constraint=False, verbose_name=_("贷款"))
    accrual_start = models.DateField(_("计息起日"))
    accrual_end = models.DateField(_("计息止日"))
    paid_date = models.DateField(_("付息日期"))
    interest_fen = models.BigIntegerField(_("实付利息（分）"))
    # Provenance only: no database constraint (its per-row check cost a third of a bulk load) and no
    # index, as nothing looks rows up by upload (docs/decisions.md); Django still nulls it if an upload
    # record is ever deleted.
    upload = models.ForeignKey(LedgerUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_constraint=False, db_index=False, verbose_name=_("报送文件"))
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("付息记录")
        verbose_name_plural = pgettext_lazy("plural", "付息记录")
        ordering = ["loan", "accrual_start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(interest_fen__gte=0), name="payment_not_negative"),
            models.CheckConstraint(condition=models.Q(accrual_end__gt=models.F("accrual_start")),
                                   name="payment_period_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.loan} [{self.accrual_start}, {self.accrual_end})"


class NonPerformingLoan(models.Model):
    """A loan the bank has declared non-performing: the basis of a risk-compensation claim."""

    # Served by the unique (loan) index.
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="npls", db_index=False,
                             verbose_name=_("贷款"))
    npl_date = models.DateField(_("不良认定日期"))
    outstanding_principal_fen = models.BigIntegerField(_("不良本金（分）"))
    recovered_fen = models.BigIntegerField(_("已回收金额（分）"), default=0)
    # Provenance only: no database constraint (its per-row check cost a third of a bulk load) and no
    # index, as nothing looks rows up by upload (docs/decisions.md); Django still nulls it if an upload
    # record is ever deleted.
    upload = models.ForeignKey(LedgerUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               db_constraint=False, db_index=False, verbose_name=_("报送文件"))
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("不良贷款")
        verbose_name_plural = pgettext_lazy("plural", "不良贷款")
        constraints = [
            models.UniqueConstraint(fields=["loan"], name="npl_one_per_loan"),
            models.CheckConstraint(condition=models.Q(outstanding_principal_fen__gt=0), name="npl_outstanding_positive"),
            models.CheckConstraint(condition=models.Q(recovered_fen__gte=0)
                                   & models.Q(recovered_fen__lte=models.F("outstanding_principal_fen")),
                                   name="npl_recovered_within_outstanding"),
        ]

    def __str__(self) -> str:
        return f"{self.loan} NPL {self.npl_date}"


class LedgerChange(models.Model):
    """One statement that changed what the interest subsidy reads: the loans, their payments, a bank's
    code, an enterprise's kind, size or name. Written by statement-level triggers on PostgreSQL
    (migration 0007), never by the application; the ledger snapshot (``lending.snapshot``) is valid for
    exactly the set of these rows it was read with."""

    at = models.DateTimeField(_("时间"), default=timezone.now)
    source = models.CharField(_("来源"), max_length=63, blank=True)

    class Meta:
        verbose_name = _("台账变更")
        verbose_name_plural = pgettext_lazy("plural", "台账变更")
