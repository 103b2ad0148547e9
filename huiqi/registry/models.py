"""The enterprise registry: who the programs serve, keyed by validated official identifiers."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core.identifiers import mask_resident_id
from huiqi.core.money import fen_to_wan
from huiqi.core.uploads import UploadRecord


class District(models.Model):
    """A district (行政区) or new area (管理区) of Shenzhen."""

    code = models.CharField("代码 code", max_length=10, primary_key=True)
    name = models.CharField("名称 name", max_length=50)
    name_en = models.CharField("英文名 English name", max_length=80)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "区 district"
        verbose_name_plural = "区 districts"
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class Industry(models.Model):
    """A GB/T 4754-2017 section (门类), division (大类) or group (中类) used by the registry."""

    code = models.CharField("行业代码 code", max_length=8, primary_key=True)
    name = models.CharField("名称 name", max_length=100)
    name_en = models.CharField("英文名 English name", max_length=150, blank=True)
    level = models.CharField(max_length=10, choices=[("section", "门类"), ("division", "大类"), ("group", "中类")])
    section = models.CharField("门类 section", max_length=1)
    size_group = models.CharField("划型行业 size-standard group", max_length=40, blank=True)

    class Meta:
        verbose_name = "行业 industry"
        verbose_name_plural = "行业 industries"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Agency(models.Model):
    """A government department (市工业和信息化局, 市市场监管局, …) that handles work in the platform."""

    code = models.CharField("代码 code", max_length=30, unique=True)
    name = models.CharField("名称 name", max_length=100)
    name_en = models.CharField("英文名 English name", max_length=150, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = "部门 agency"
        verbose_name_plural = "部门 agencies"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Bank(models.Model):
    """A partner bank: signed the pool agreement, and onboarded when connected to the system."""

    code = models.CharField("银行机构代码 bank code", max_length=32, unique=True)
    name = models.CharField("银行名称 name", max_length=100)
    signed_date = models.DateField("签约日期 signed", null=True, blank=True)
    onboarded_date = models.DateField("入库日期 onboarded", null=True, blank=True)

    class Meta:
        verbose_name = "合作银行 bank"
        verbose_name_plural = "合作银行 banks"
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

    code = models.CharField("代码 code", max_length=30, unique=True)
    name = models.CharField("名称 name", max_length=100)
    name_en = models.CharField("英文名 English name", max_length=150, blank=True)

    class Meta:
        verbose_name = "基金实施机构 fund institution"
        verbose_name_plural = "基金实施机构 fund institutions"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


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

    uscc = models.CharField("统一社会信用代码 USCC", max_length=18, unique=True)
    name = models.CharField("企业名称 name", max_length=200)
    kind = models.CharField("主体类型 kind", max_length=20, choices=Kind.choices)
    # Indexed in Meta, without the extra pattern-ops copies PostgreSQL would add for a text key:
    # every index costs each bulk import, so each one here earns its place.
    district = models.ForeignKey(District, on_delete=models.PROTECT, verbose_name="所属区 district", db_index=False)
    industry = models.ForeignKey(Industry, on_delete=models.PROTECT, verbose_name="行业 industry", db_index=False)
    employees = models.PositiveIntegerField("从业人员 employees", null=True, blank=True)
    revenue_fen = models.BigIntegerField("营业收入（分） revenue (fen)", null=True, blank=True)
    assets_fen = models.BigIntegerField("资产总额（分） assets (fen)", null=True, blank=True)
    figures_year = models.PositiveSmallIntegerField("数据年度 figures year", null=True, blank=True)
    size_class = models.CharField("企业规模 size", max_length=10, choices=Size.choices, default=Size.UNKNOWN)
    size_missing = models.CharField("缺少的数据 missing figures", max_length=60, blank=True)
    size_year = models.PositiveSmallIntegerField("划型年度 size year", null=True, blank=True)
    is_key_enterprise = models.BooleanField("重点企业 key enterprise", default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = "企业 enterprise"
        verbose_name_plural = "企业 enterprises"
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
        return f"{self.name}（{self.uscc}）"

    @property
    def revenue_wan(self):
        return fen_to_wan(self.revenue_fen)

    @property
    def assets_wan(self):
        return fen_to_wan(self.assets_fen)


class BusinessOwner(models.Model):
    """A small-business owner (小微企业主), who borrows as a natural person. The ID is shown masked."""

    resident_id = models.CharField("居民身份证号码 resident ID", max_length=18, unique=True)
    name = models.CharField("姓名 name", max_length=100)
    enterprises = models.ManyToManyField(Enterprise, related_name="owners", blank=True,
                                         verbose_name="所属企业 owns")

    AUDIT_MASK = {"resident_id": mask_resident_id}

    class Meta:
        verbose_name = "小微企业主 business owner"
        verbose_name_plural = "小微企业主 business owners"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.masked_id}）"

    @property
    def masked_id(self) -> str:
        return mask_resident_id(self.resident_id)


class RegistryImport(UploadRecord):
    """One registry file as uploaded: refused with its error report, or stored whole."""

    class Meta(UploadRecord.Meta):
        verbose_name = "名录导入 registry import"
        verbose_name_plural = "名录导入 registry imports"
