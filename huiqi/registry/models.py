"""The enterprise registry: who the programs serve, keyed by validated official identifiers."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from huiqi.core.i18n import localized, pick
from huiqi.core.identifiers import mask_resident_id
from huiqi.core.money import fen_to_wan
from huiqi.core.uploads import UploadRecord


class District(models.Model):
    """A district (行政区) or new area (管理区) of Shenzhen."""

    code = models.CharField(_("代码"), max_length=10, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名"), max_length=80)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = pgettext_lazy("plural", "区")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return localized(self)


class Industry(models.Model):
    """A GB/T 4754-2017 section (门类), division (大类) or group (中类) used by the registry."""

    code = models.CharField(_("行业代码"), max_length=8, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名"), max_length=150, blank=True)
    level = models.CharField(_("层级"), max_length=10, choices=[("section", "门类"), ("division", "大类"), ("group", "中类")])
    section = models.CharField(_("门类"), max_length=1)
    size_group = models.CharField(_("划型行业"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("行业")
        verbose_name_plural = pgettext_lazy("plural", "行业")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {localized(self)}"


class Agency(models.Model):
    """A government department (市工业和信息化局, 市市场监管局, …) that handles work in the platform."""

    code = models.CharField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名"), max_length=150, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children", verbose_name=_("上级部门"))

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = pgettext_lazy("plural", "部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return localized(self)


class Bank(models.Model):
    """A partner bank: signed the pool agreement, and onboarded when connected to the system."""

    code = models.CharField(_("银行机构代码"), max_length=32, unique=True)
    name = models.CharField(_("银行名称"), max_length=100)
    signed_date = models.DateField(_("签约日期"), null=True, blank=True)
    onboarded_date = models.DateField(_("入库日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("合作银行")
        verbose_name_plural = pgettext_lazy("plural", "合作银行")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(onboarded_date__isnull=True)
                | models.Q(signed_date__isnull=False, onboarded_date__gte=models.F("signed_date")),
                name="bank_onboarded_after_signed",
            )
        ]

    def __str__(self) -> str:
        return self.name


class FundInstitution(models.Model):
    """An institution that takes stable-development-fund applications (高新投, 担保集团)."""

    code = models.CharField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("基金实施机构")
        verbose_name_plural = pgettext_lazy("plural", "基金实施机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return localized(self)


class EnterpriseQuerySet(models.QuerySet):
    def for_user(self, user):
        from .permissions import scope_enterprises

        return scope_enterprises(user, self)


class Enterprise(models.Model):
    """An enterprise (企业, USCC 91…) or individual business (个体工商户, USCC 92…).

    Figures are the previous year's (``figures_year``); money figures are whole fen. The size class
    is derived from them by the SME size standard and stored with the year it was computed from.
    """

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        INDIVIDUAL_BUSINESS = "individual_business", _("个体工商户")

    class Size(models.TextChoices):
        LARGE = "large", _("大型")
        MEDIUM = "medium", _("中型")
        SMALL = "small", _("小型")
        MICRO = "micro", _("微型")
        UNKNOWN = "unknown", _("未知")

    class Ownership(models.TextChoices):
        PRIVATE = "private", _("民营")
        STATE_CONTROLLED = "state_controlled", _("国有控股")
        UNKNOWN = "unknown", _("未知")

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200)
    kind = models.CharField(_("主体类型"), max_length=20, choices=Kind.choices)
    # Indexed in Meta, without the extra pattern-ops copies PostgreSQL would add for a text key:
    # every index costs each bulk import, so each one here earns its place.
    district = models.ForeignKey(District, on_delete=models.PROTECT, verbose_name=_("所属区"), db_index=False)
    industry = models.ForeignKey(Industry, on_delete=models.PROTECT, verbose_name=_("行业"), db_index=False)
    employees = models.PositiveIntegerField(_("从业人员"), null=True, blank=True)
    revenue_fen = models.BigIntegerField(_("营业收入（分）"), null=True, blank=True)
    assets_fen = models.BigIntegerField(_("资产总额（分）"), null=True, blank=True)
    figures_year = models.PositiveSmallIntegerField(_("数据年度"), null=True, blank=True)
    size_class = models.CharField(_("企业规模"), max_length=10, choices=Size.choices, default=Size.UNKNOWN)
    size_missing = models.CharField(_("缺少的数据"), max_length=60, blank=True)
    size_year = models.PositiveSmallIntegerField(_("划型年度"), null=True, blank=True)
    is_key_enterprise = models.BooleanField(_("重点企业"), default=False)
    # The default in the database too: the registry file's set-based import on PostgreSQL inserts rows
    # without this column (the file has none).
    ownership = models.CharField(_("所有制性质"), max_length=20, choices=Ownership.choices, default=Ownership.UNKNOWN,
                                 db_default=Ownership.UNKNOWN)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = pgettext_lazy("plural", "企业")
        ordering = ["uscc"]
        indexes = [
            models.Index(fields=["district", "size_class"], name="enterprise_district_size"),
            models.Index(fields=["industry"], name="enterprise_industry"),
            models.Index(fields=["name", "uscc"], name="enterprise_name_order"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(revenue_fen__gte=0) | models.Q(revenue_fen__isnull=True),
                                   name="enterprise_revenue_not_negative"),
            models.CheckConstraint(condition=models.Q(assets_fen__gte=0) | models.Q(assets_fen__isnull=True),
                                   name="enterprise_assets_not_negative"),
        ]

    def __str__(self) -> str:
        return pick(f"{self.name}（{self.uscc}）", f"{self.name} ({self.uscc})")

    @property
    def revenue_wan(self):
        return fen_to_wan(self.revenue_fen)

    @property
    def assets_wan(self):
        return fen_to_wan(self.assets_fen)


class BusinessOwner(models.Model):
    """A small-business owner (小微企业主), who borrows as a natural person. The ID is shown masked."""

    resident_id = models.CharField(_("居民身份证号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=100)
    enterprises = models.ManyToManyField(Enterprise, related_name="owners", blank=True,
                                         verbose_name=_("所属企业"))

    AUDIT_MASK = {"resident_id": mask_resident_id}

    class Meta:
        verbose_name = _("小微企业主")
        verbose_name_plural = pgettext_lazy("plural", "小微企业主")
        ordering = ["id"]

    def __str__(self) -> str:
        return pick(f"{self.name}（{self.masked_id}）", f"{self.name} ({self.masked_id})")

    @property
    def masked_id(self) -> str:
        return mask_resident_id(self.resident_id)


class DishonestDebtorListing(models.Model):
    """A period an enterprise was on the list of dishonest judgment debtors (失信被执行人), from the court's
    publication: listed on ``listed_on``, removed on ``removed_on`` (open while still listed)."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)
    listed_on = models.DateField(_("列入日期"))
    removed_on = models.DateField(_("移出日期"), null=True, blank=True)
    source = models.CharField(_("来源"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("失信被执行人记录")
        verbose_name_plural = pgettext_lazy("plural", "失信被执行人记录")
        ordering = ["uscc", "listed_on"]
        constraints = [
            models.UniqueConstraint(fields=["uscc", "listed_on"], name="dishonest_listing_once"),
            models.CheckConstraint(condition=models.Q(removed_on__isnull=True)
                                   | models.Q(removed_on__gte=models.F("listed_on")),
                                   name="dishonest_removed_after_listed"),
        ]

    def __str__(self) -> str:
        return f"{self.uscc} {self.listed_on}"


class RegistryImport(UploadRecord):
    """One registry file as uploaded: refused with its error report, or stored whole. Besides the registry
    extract, the bureau sends the enterprises' ownership (所有制性质) and the court's dishonest-debtor list
    (失信被执行人, dated listings)."""

    class Kind(models.TextChoices):
        REGISTRY = "registry", _("企业名录")
        OWNERSHIP = "ownership", _("所有制性质")
        DISHONEST = "dishonest", _("失信被执行人名单")

    kind = models.CharField(_("文件类型"), max_length=12, choices=Kind.choices, default=Kind.REGISTRY,
                            db_default=Kind.REGISTRY)

    class Meta(UploadRecord.Meta):
        verbose_name = _("名录导入")
        verbose_name_plural = pgettext_lazy("plural", "名录导入")
