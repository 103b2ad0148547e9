"""The epidemic-supplies program's tables (``specs/supplies-and-casework.md``): the catalogue of products
(防疫物资目录) and the producers directory (生产企业目录) — who is listed from when to when, their suspensions,
and what each makes with its daily capacity. The directory is dated, so any program can ask whether an
enterprise was an active producer on a given day (the stable-development fund's priority, as of the day an
application was received)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiqi.core.i18n import localized
from huiqi.core.uploads import UploadRecord


class Unit(models.TextChoices):
    """A product's unit; it never changes once reports use it (a new unit is a new product). The labels have
    their own context: "件" and "个" count other things elsewhere (requests, files)."""
    PIECE = "piece", pgettext_lazy("unit", "只")
    GARMENT = "garment", pgettext_lazy("unit", "件")
    PAIR = "pair", pgettext_lazy("unit", "副")
    ITEM = "item", pgettext_lazy("unit", "个")
    SET = "set", pgettext_lazy("unit", "台")
    TONNE = "tonne", pgettext_lazy("unit", "吨")
    TEST = "test", pgettext_lazy("unit", "人份")


class Product(models.Model):
    """A product of the catalogue (防疫物资目录), in its class, with its unit."""

    code = models.CharField(_("产品代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    name_en = models.CharField(_("英文名"), max_length=120)
    product_class = models.CharField(_("产品类别"), max_length=40)
    product_class_en = models.CharField(_("产品类别（英文）"), max_length=80)
    unit = models.CharField(_("计量单位"), max_length=10, choices=Unit.choices)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("防疫物资产品")
        verbose_name_plural = pgettext_lazy("plural", "防疫物资产品")
        ordering = ["order", "code"]

    def __str__(self):
        return f"{self.code} {localized(self)}"

    @property
    def label(self) -> str:
        return localized(self)

    @property
    def label_with_unit(self) -> str:
        """Its name and unit in the reader's language: 医用外科口罩（只）."""
        return gettext("%(name)s（%(unit)s）") % {"name": self.label, "unit": self.get_unit_display()}


class Producer(models.Model):
    """An enterprise in the producers directory: listed from ``active_from`` (inclusive) until ``active_to``
    (inclusive; none while it stays listed), less its suspensions. Its district is the registry's."""

    enterprise = models.OneToOneField("registry.Enterprise", on_delete=models.PROTECT, related_name="supplies_listing",
                                      verbose_name=_("企业"))
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    active_from = models.DateField(_("列入目录日期"))
    active_to = models.DateField(_("有效期至"), null=True, blank=True)
    removal_reason = models.CharField(_("移出原因"), max_length=300, blank=True)
    converted = models.BooleanField(_("转产企业"), default=False)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("防疫物资生产企业")
        verbose_name_plural = pgettext_lazy("plural", "防疫物资生产企业")
        ordering = ["uscc"]
        constraints = [models.CheckConstraint(condition=Q(active_to__isnull=True) | Q(active_to__gte=F("active_from")),
                                              name="supplies_producer_period")]
        indexes = [models.Index(fields=["active_from", "active_to"], name="supplies_producer_active")]

    def __str__(self):
        return self.uscc


class Suspension(models.Model):
    """A period in which a listed producer is suspended (暂停): from ``start`` until ``end`` (inclusive; none
    while it lasts). It is not an active producer on those days."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="suspensions",
                                 verbose_name=_("生产企业"))
    start = models.DateField(_("暂停日期"))
    end = models.DateField(_("暂停截止日"), null=True, blank=True)
    reason = models.CharField(_("暂停原因"), max_length=300)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("暂停记录")
        verbose_name_plural = pgettext_lazy("plural", "暂停记录")
        ordering = ["producer", "start"]
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                                              name="supplies_suspension_period"),
                       models.UniqueConstraint(fields=["producer", "start"], name="supplies_suspension_start")]

    def __str__(self):
        return f"{self.producer_id} {self.start}"


class ProducerProduct(models.Model):
    """What a producer makes: a product of the catalogue, its capacity per day in the product's unit, and
    the days it reports from and to (inclusive; none while it goes on)."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="products",
                                 verbose_name=_("生产企业"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("产品"))
    capacity_per_day = models.BigIntegerField(_("日产能"))
    reported_from = models.DateField(_("报告起始日"))
    reported_to = models.DateField(_("报告截止日"), null=True, blank=True)

    class Meta:
        verbose_name = _("生产企业产品")
        verbose_name_plural = pgettext_lazy("plural", "生产企业产品")
        ordering = ["producer", "product__order", "product__code"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "product"], name="supplies_producer_product"),
            models.CheckConstraint(condition=Q(capacity_per_day__gte=0), name="supplies_capacity_not_negative"),
            models.CheckConstraint(condition=Q(reported_to__isnull=True) | Q(reported_to__gte=F("reported_from")),
                                   name="supplies_product_period"),
        ]

    def __str__(self):
        return f"{self.producer_id} {self.product_id}"


class DirectoryUpload(UploadRecord):
    """One directory file the bureau sent (生产企业目录文件): a row per producer and product, each producer's
    rows through the directory's services. Stored whole, or refused whole with every bad row named."""

    class Meta(UploadRecord.Meta):
        verbose_name = _("生产企业目录文件")
        verbose_name_plural = pgettext_lazy("plural", "生产企业目录文件")
