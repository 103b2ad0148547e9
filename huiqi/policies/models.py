"""The policy hub's tables: policy documents and their items, each item a chain of versions (a published
version is never edited), the items' test cases, the tag vocabularies, and the facts about enterprises
that come from outside the registry (credit extract, supplies directory, commercial register)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiqi.core.uploads import UploadRecord


class Status(models.TextChoices):
    """The workflow of documents and item versions: draft → review → published → expired | withdrawn; a
    published version that a newer one replaced is superseded."""

    DRAFT = "draft", pgettext_lazy("policy", "草稿")
    REVIEW = "review", pgettext_lazy("policy", "待审核")
    PUBLISHED = "published", pgettext_lazy("policy", "已发布")
    SUPERSEDED = "superseded", pgettext_lazy("policy", "已被新版本替代")
    EXPIRED = "expired", pgettext_lazy("policy", "已失效")
    WITHDRAWN = "withdrawn", pgettext_lazy("policy", "已撤回")


# The state machine of documents and item versions: action → (states it starts from, state it leads to).
TRANSITIONS = {
    "submit": ((Status.DRAFT,), Status.REVIEW),
    "return": ((Status.REVIEW,), Status.DRAFT),
    "publish": ((Status.REVIEW,), Status.PUBLISHED),
    "supersede": ((Status.PUBLISHED,), Status.SUPERSEDED),
    "withdraw": ((Status.PUBLISHED,), Status.WITHDRAWN),
    "expire": ((Status.PUBLISHED,), Status.EXPIRED),
}


class Mode(models.TextChoices):
    AUTO = "auto", _("免申即享")
    PREFILLED = "prefilled", _("即申即享")
    APPLICATION = "application", _("申报")


class PolicyDocument(models.Model):
    """A policy document (政策文件): issuer, 文号 (unique per issuer), dates and full text."""

    issuer = models.CharField(_("发文机关"), max_length=100)
    number = models.CharField(_("文号"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    issued_on = models.DateField(_("发布日期"))
    effective_from = models.DateField(_("施行日期"))
    effective_to = models.DateField(_("有效期至"), null=True, blank=True)
    full_text = models.TextField(_("全文"), blank=True)
    source_url = models.URLField(_("来源地址"), blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("起草人"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("审核人"))
    withdraw_reason = models.CharField(_("撤回原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("政策文件")
        verbose_name_plural = pgettext_lazy("plural", "政策文件")
        ordering = ["-issued_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "number"], name="policies_document_number_per_issuer"),
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                                   name="policies_document_effective_order"),
        ]

    def __str__(self):
        return f"{self.title}（{self.number}）"


class PolicyItem(models.Model):
    """A policy item (政策事项): its code and document; what it says is in its versions."""

    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    document = models.ForeignKey(PolicyDocument, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="items", verbose_name=_("政策文件"))
    department = models.ForeignKey("registry.Agency", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("主管部门"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("政策事项")
        verbose_name_plural = pgettext_lazy("plural", "政策事项")
        ordering = ["code"]

    def __str__(self):
        return self.code


class ItemVersion(models.Model):
    """One version of an item. A published version is never edited; publishing a newer one supersedes it
    from that day (``in_force_to``, exclusive). The version in force on a day answers for that day."""

    item = models.ForeignKey(PolicyItem, on_delete=models.CASCADE, related_name="versions",
                             verbose_name=_("政策事项"))
    number = models.PositiveIntegerField(_("版本"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(_("事项名称"), max_length=200)
    summary = models.TextField(_("政策解读"), blank=True)
    guide = models.TextField(_("办事指南"), blank=True)
    faq = models.JSONField(_("常见问题"), default=list, blank=True)
    benefit = models.CharField(_("支持方式"), max_length=40, blank=True)
    mode = models.CharField(_("办理方式"), max_length=12, choices=Mode.choices, default=Mode.APPLICATION)
    opens = models.DateField(_("申报开始"), null=True, blank=True)
    closes = models.DateField(_("申报截止"), null=True, blank=True)
    criteria = models.JSONField(_("申报条件"))
    tags = models.JSONField(_("标签"), default=dict, blank=True)
    exclusion_group = models.CharField(_("不得重复享受组"), max_length=40, blank=True)
    repeatable = models.BooleanField(_("可重复享受"), default=False)
    in_force_from = models.DateField(_("生效日期"), null=True, blank=True)
    in_force_to = models.DateField(_("失效日期"), null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("起草人"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("审核人"))
    withdraw_reason = models.CharField(_("撤回原因"), max_length=300, blank=True)
    search_text = models.TextField(_("检索词"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("政策事项版本")
        verbose_name_plural = pgettext_lazy("plural", "政策事项版本")
        ordering = ["item_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="policies_version_number"),
            models.CheckConstraint(condition=Q(closes__isnull=True) | Q(opens__isnull=True) | Q(closes__gte=models.F("opens")),
                                   name="policies_version_window_order"),
        ]
        indexes = [models.Index(fields=["status", "in_force_from"], name="policies_version_in_force")]

    def __str__(self):
        return f"{self.item.code} v{self.number} {self.title}"


class ItemTestCase(models.Model):
    """A test case of an item's criteria: an enterprise's facts and the outcome they must give."""

    item = models.ForeignKey(PolicyItem, on_delete=models.CASCADE, related_name="test_cases",
                             verbose_name=_("政策事项"))
    name = models.CharField(_("名称"), max_length=100)
    facts = models.JSONField(_("企业信息"))
    expected = models.CharField(_("预期结果"), max_length=10,
                                choices=[("met", _("符合")), ("not_met", _("不符合")), ("unknown", _("待补充"))])

    class Meta:
        verbose_name = _("条件测试用例")
        verbose_name_plural = pgettext_lazy("plural", "条件测试用例")
        ordering = ["item_id", "id"]

    def __str__(self):
        return f"{self.item.code} {self.name}"


class Tag(models.Model):
    """A tag of a vocabulary the bureau edits (facets: subject, benefit, mode)."""

    class Facet(models.TextChoices):
        SUBJECT = "subject", _("主题")
        BENEFIT = "benefit", _("支持方式")
        MODE = "mode", _("办理方式")

    facet = models.CharField(_("分类"), max_length=12, choices=Facet.choices)
    code = models.CharField(_("代码"), max_length=30)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = pgettext_lazy("plural", "标签")
        ordering = ["facet", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["facet", "code"], name="policies_tag_code_per_facet")]

    def __str__(self):
        return self.name


class EnterpriseFacts(models.Model):
    """What the criteria read about an enterprise from sources other than the registry and the programs
    that keep their facts themselves: the founding day (commercial register), the latest credit extract (失信;
    unknown when the enterprise was not in it) and the stable-development fund's approvals. Whether it is an
    epidemic-supply producer is read from the supplies directory as of the evaluation day."""

    enterprise = models.OneToOneField("registry.Enterprise", on_delete=models.CASCADE, related_name="policy_facts",
                                      verbose_name=_("企业"))
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    credit_blacklisted = models.BooleanField(_("列入失信名单"), null=True, blank=True)
    fund_approved = models.BooleanField(_("获批稳企基金"), default=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("企业政策信息")
        verbose_name_plural = pgettext_lazy("plural", "企业政策信息")

    def __str__(self):
        return str(self.enterprise_id)


class Article(models.Model):
    """A publicity article (政策宣传) on one channel, with the items it presents and its views as the
    channel's statistics last reported them."""

    class Channel(models.TextChoices):
        WEBSITE = "website", _("网站")
        WECHAT = "wechat", _("微信公众号")
        WECHAT_GROUP = "wechat_group", _("涉企微信群")
        NEWSPAPER = "newspaper", _("报纸")
        TV = "tv", _("电视台")
        RADIO = "radio", _("电台")
        ONLINE_MEDIA = "online_media", _("网络媒体")
        ASSOCIATION = "association", _("行业协会")

    title = models.CharField(_("标题"), max_length=200)
    channel = models.CharField(_("渠道"), max_length=20, choices=Channel.choices)
    published_at = models.DateTimeField(_("发布时间"))
    url = models.URLField(_("地址"), blank=True)
    items = models.ManyToManyField(PolicyItem, related_name="articles", blank=True, verbose_name=_("相关政策事项"))
    views = models.PositiveIntegerField(_("浏览量"), null=True, blank=True)
    views_as_of = models.DateField(_("浏览量统计日"), null=True, blank=True)

    class Meta:
        verbose_name = _("宣传文章")
        verbose_name_plural = pgettext_lazy("plural", "宣传文章")
        ordering = ["-published_at", "id"]
        indexes = [models.Index(fields=["channel", "published_at"], name="policies_article_channel")]

    def __str__(self):
        return self.title


class ApplicationState(models.TextChoices):
    """An online application's states: submitted → accepted → approved | rejected; approved → paid."""

    SUBMITTED = "submitted", pgettext_lazy("policy application", "已提交")
    ACCEPTED = "accepted", pgettext_lazy("policy application", "已受理")
    APPROVED = "approved", pgettext_lazy("policy application", "已批准")
    REJECTED = "rejected", pgettext_lazy("policy application", "未批准")
    PAID = "paid", pgettext_lazy("policy application", "已兑付")


# action → (states it starts from, state it leads to).
APPLICATION_TRANSITIONS = {
    "accept": ((ApplicationState.SUBMITTED,), ApplicationState.ACCEPTED),
    "approve": ((ApplicationState.ACCEPTED,), ApplicationState.APPROVED),
    "reject": ((ApplicationState.ACCEPTED,), ApplicationState.REJECTED),
    "pay": ((ApplicationState.APPROVED,), ApplicationState.PAID),
}
# An enterprise holds an item while it has an application of it in these states (不得重复享受).
HOLDING_STATES = (ApplicationState.APPROVED, ApplicationState.PAID)
# Still with the department: the SLA runs and a second application of the same item waits for it.
OPEN_STATES = (ApplicationState.SUBMITTED, ApplicationState.ACCEPTED)


class Application(models.Model):
    """An enterprise's online application (在线申报) for a ``prefilled`` or ``application`` item, against the
    version in force on the day it was submitted. ``registry`` is what the form was prefilled with (the
    registry's facts then); ``declared`` is what the enterprise added for facts the registry lacks, kept apart
    and never written back. The owning department handles it within its SLA (``due``, working days)."""

    number = models.CharField(_("申报编号"), max_length=40, unique=True)
    item = models.ForeignKey(PolicyItem, on_delete=models.PROTECT, related_name="applications",
                             verbose_name=_("政策事项"))
    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="applications",
                                verbose_name=_("事项版本"))
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="policy_applications",
                                   verbose_name=_("企业"))
    department = models.ForeignKey("registry.Agency", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("办理部门"))
    state = models.CharField(_("状态"), max_length=10, choices=ApplicationState.choices,
                             default=ApplicationState.SUBMITTED)
    registry = models.JSONField(_("登记库信息"), default=dict, blank=True)
    declared = models.JSONField(_("企业申报信息"), default=dict, blank=True)
    outcome = models.JSONField(_("条件判断"), default=dict, blank=True)
    statement = models.TextField(_("申报说明"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    window_opens = models.DateField(_("申报期开始"), null=True, blank=True)
    window_closes = models.DateField(_("申报期截止"), null=True, blank=True)
    submitted_on = models.DateField(_("提交日期"))
    due = models.DateField(_("办理时限"))
    sla_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    accepted_on = models.DateField(_("受理日期"), null=True, blank=True)
    decided_on = models.DateField(_("审批日期"), null=True, blank=True)
    paid_on = models.DateField(_("兑付日期"), null=True, blank=True)
    approved_fen = models.BigIntegerField(_("批准金额（分）"), null=True, blank=True)
    paid_fen = models.BigIntegerField(_("兑付金额（分）"), null=True, blank=True)
    rejection_reason = models.CharField(_("未批准原因"), max_length=500, blank=True)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("申报人"))
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("经办人"))
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("政策申报")
        verbose_name_plural = pgettext_lazy("plural", "政策申报")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(approved_fen__isnull=True) | Q(approved_fen__gte=0),
                                   name="policies_application_approved_nonnegative"),
            models.CheckConstraint(condition=Q(paid_fen__isnull=True) | Q(paid_fen__gte=0),
                                   name="policies_application_paid_nonnegative"),
            models.CheckConstraint(condition=~Q(state__in=["approved", "paid"]) | Q(approved_fen__isnull=False),
                                   name="policies_application_approved_has_amount"),
            models.CheckConstraint(condition=~Q(state="paid") | Q(paid_fen__isnull=False, paid_on__isnull=False),
                                   name="policies_application_paid_has_amount"),
        ]
        indexes = [
            models.Index(fields=["department", "state", "due"], name="policies_app_queue"),
            models.Index(fields=["enterprise", "item", "state"], name="policies_app_holding"),
            models.Index(fields=["item", "submitted_on"], name="policies_app_item_day"),
        ]

    def __str__(self):
        return self.number


def _attachment_path(instance, filename):
    now = timezone.localtime()
    return f"policies/{now:%Y/%m}/{instance.application_id}/{filename}"


class ApplicationAttachment(models.Model):
    """A file given with an application; type, content and size checked on the way in (the platform's
    attachment rules)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments",
                                    verbose_name=_("政策申报"))
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    kind = models.CharField(_("类型"), max_length=10)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("申报附件")
        verbose_name_plural = pgettext_lazy("plural", "申报附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


# --- 免申即享 lists (``auto`` items): compiled → reviewed → publicised → objections_closed → confirmed →
# payment_list → reconciled ---------------------------------------------------------------------------------

class ListStatus(models.TextChoices):
    COMPILED = "compiled", _("已生成")
    REVIEWED = "reviewed", _("已复核")
    PUBLICISED = "publicised", _("公示中")
    OBJECTIONS_CLOSED = "objections_closed", _("异议期结束")
    CONFIRMED = "confirmed", _("已确认")
    PAYMENT_LIST = "payment_list", _("已生成支付清单")
    RECONCILED = "reconciled", _("已对账")


# The state machine of a list: action → (states it starts from, state it leads to). Nothing else moves a list.
LIST_TRANSITIONS = {
    "review": ((ListStatus.COMPILED,), ListStatus.REVIEWED),
    "publish": ((ListStatus.REVIEWED,), ListStatus.PUBLICISED),
    "close": ((ListStatus.PUBLICISED,), ListStatus.OBJECTIONS_CLOSED),
    "confirm": ((ListStatus.OBJECTIONS_CLOSED,), ListStatus.CONFIRMED),
    "prepare_payment": ((ListStatus.CONFIRMED,), ListStatus.PAYMENT_LIST),
    "reconcile": ((ListStatus.PAYMENT_LIST,), ListStatus.RECONCILED),
}


def _person(label):
    return models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=label)


class AutoList(models.Model):
    """A 免申即享 list of an ``auto`` item: the enterprises met on its list date with their amounts (or, for
    the interest subsidy, a released batch of that program imported as it is), on its way to payment.

    ``kind``: the first list of a compilation, a supplementary 公示 of upheld additions and increases, or the
    retry list of a payment's failures (``parent`` is the list it came from). Control totals are whole fen and
    the SHA-256 of the payment list's sorted lines (``rules.control_totals``)."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("名单")
        SUPPLEMENT = "supplement", _("补充公示名单")
        RETRY = "retry", _("重新支付名单")

    class Source(models.TextChoices):
        CRITERIA = "criteria", _("按申报条件生成")
        SUBSIDY = "subsidy", _("贴息批次")

    item = models.ForeignKey(PolicyItem, on_delete=models.PROTECT, related_name="auto_lists",
                             verbose_name=_("政策事项"))
    version = models.ForeignKey(ItemVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("事项版本"))
    kind = models.CharField(_("名单类型"), max_length=12, choices=Kind.choices, default=Kind.ORIGINAL)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               verbose_name=_("原名单"))
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.CRITERIA)
    subsidy_batch = models.ForeignKey("subsidy.SubsidyBatch", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("贴息批次"))
    list_date = models.DateField(_("名单日期"))
    status = models.CharField(_("状态"), max_length=20, choices=ListStatus.choices, default=ListStatus.COMPILED,
                              db_index=True)
    compiled_by = _person(_("生成人"))
    compiled_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    reviewed_by = _person(_("复核人"))
    reviewed_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    published_by = _person(_("公示人"))
    published_on = models.DateField(_("公示日期"), null=True, blank=True)
    objections_until = models.DateField(_("异议截止日"), null=True, blank=True)
    closed_by = _person(_("结束异议期人"))
    closed_at = models.DateTimeField(_("异议期结束时间"), null=True, blank=True)
    confirmed_by = _person(_("确认人"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    payment_prepared_by = _person(_("支付清单编制人"))
    payment_prepared_at = models.DateTimeField(_("支付清单编制时间"), null=True, blank=True)
    payment_approved_by = _person(_("支付清单审批人"))
    payment_approved_at = models.DateTimeField(_("支付清单审批时间"), null=True, blank=True)
    reconciled_by = _person(_("对账人"))
    reconciled_at = models.DateTimeField(_("对账时间"), null=True, blank=True)
    payment_count = models.PositiveIntegerField(_("支付笔数"), null=True, blank=True)
    payment_total_fen = models.BigIntegerField(_("支付合计（分）"), null=True, blank=True)
    payment_digest = models.CharField(_("支付清单 SHA-256"), max_length=64, blank=True)
    paid_count = models.PositiveIntegerField(_("支付成功笔数"), default=0)
    paid_fen = models.BigIntegerField(_("支付成功金额（分）"), default=0)
    failed_count = models.PositiveIntegerField(_("支付失败笔数"), default=0)
    failed_fen = models.BigIntegerField(_("支付失败金额（分）"), default=0)

    class Meta:
        verbose_name = _("免申即享名单")
        verbose_name_plural = pgettext_lazy("plural", "免申即享名单")
        ordering = ["-list_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ListStatus.values), name="policies_list_status_valid"),
            # A released subsidy batch is compiled into one list only.
            models.UniqueConstraint(fields=["subsidy_batch"], condition=Q(kind="original"),
                                    name="policies_list_one_per_subsidy_batch"),
            # Four eyes in the database too.
            models.CheckConstraint(condition=Q(reviewed_by__isnull=True) | ~Q(reviewed_by=F("compiled_by")),
                                   name="policies_list_reviewed_by_another"),
            models.CheckConstraint(condition=Q(payment_approved_by__isnull=True)
                                   | ~Q(payment_approved_by=F("payment_prepared_by")),
                                   name="policies_list_payment_approved_by_another"),
            models.CheckConstraint(condition=Q(paid_fen__gte=0, failed_fen__gte=0)
                                   & (Q(payment_total_fen__isnull=True) | Q(payment_total_fen__gte=0)),
                                   name="policies_list_amounts_not_negative"),
        ]

    def __str__(self):
        return _("%(code)s %(kind)s #%(pk)s（%(day)s）") % {"code": self.item.code, "kind": self.get_kind_display(),
                                                          "pk": self.pk, "day": self.list_date}


def _mask_beneficiary_id(value: str) -> str:
    from huiqi.core.identifiers import mask_resident_id

    return value if len(value or "") != 18 or value[:1].isalpha() or value[:2] in ("91", "92", "93") \
        else mask_resident_id(value)


class AutoEntry(models.Model):
    """One beneficiary on a list: the amount from the program's rules and the explanation kept with it."""

    class Status(models.TextChoices):
        LISTED = "listed", _("在列")
        REMOVED = "removed", _("已移出")
        DECLINED = "declined", _("企业放弃")

    class Payment(models.TextChoices):
        NONE = "", _("未支付")
        PENDING = "pending", _("待支付")
        PAID = "paid", _("已支付")
        FAILED = "failed", _("支付失败")

    auto_list = models.ForeignKey(AutoList, on_delete=models.CASCADE, related_name="entries",
                                  verbose_name=_("免申即享名单"))
    beneficiary_id = models.CharField(_("受益人证件号码"), max_length=18)
    name = models.CharField(_("名称"), max_length=200)
    beneficiary_kind = models.CharField(_("受益人类型"), max_length=20, blank=True)
    enterprise = models.ForeignKey("registry.Enterprise", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("企业"))
    amount_fen = models.BigIntegerField(_("金额（分）"))
    explanation = models.JSONField(_("依据"), default=dict)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.LISTED)
    status_reason = models.CharField(_("原因"), max_length=300, blank=True)
    payment = models.CharField(_("支付状态"), max_length=10, choices=Payment.choices, default="", blank=True)
    payment_note = models.CharField(_("银行说明"), max_length=300, blank=True)

    AUDIT_MASK = {"beneficiary_id": _mask_beneficiary_id}

    class Meta:
        verbose_name = _("名单条目")
        verbose_name_plural = pgettext_lazy("plural", "名单条目")
        ordering = ["auto_list_id", "beneficiary_id"]
        constraints = [
            models.UniqueConstraint(fields=["auto_list", "beneficiary_id"], name="policies_entry_once_per_list"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="policies_entry_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} #{self.auto_list_id}"


class Objection(models.Model):
    """An objection (异议) to a publicised list: a listed enterprise asking for more or disputing its entry,
    or another asking to be added; upheld or rejected with a reason."""

    class Kind(models.TextChoices):
        ADD = "add", _("申请列入")
        INCREASE = "increase", _("金额异议")
        OTHER = "other", _("其他异议")

    class Decision(models.TextChoices):
        PENDING = "pending", _("待处理")
        UPHELD = "upheld", _("异议成立")
        REJECTED = "rejected", _("异议不成立")

    auto_list = models.ForeignKey(AutoList, on_delete=models.CASCADE, related_name="objections",
                                  verbose_name=_("免申即享名单"))
    entry = models.ForeignKey(AutoEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="objections",
                              verbose_name=_("名单条目"))
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("企业"))
    kind = models.CharField(_("异议类型"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("异议内容"))
    requested_fen = models.BigIntegerField(_("申请金额（分）"), null=True, blank=True)
    submitted_by = _person(_("提出人"))
    submitted_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    decision = models.CharField(_("处理结果"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    reason = models.CharField(_("处理理由"), max_length=300, blank=True)
    granted_fen = models.BigIntegerField(_("核定补充金额（分）"), null=True, blank=True)
    decided_by = _person(_("处理人"))
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    supplement = models.ForeignKey(AutoList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("补充公示名单"))

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = pgettext_lazy("plural", "公示异议")
        ordering = ["auto_list_id", "submitted_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(requested_fen__isnull=True) | Q(requested_fen__gt=0),
                                   name="policies_objection_requested_positive"),
            models.CheckConstraint(condition=Q(granted_fen__isnull=True) | Q(granted_fen__gt=0),
                                   name="policies_objection_granted_positive"),
        ]

    def __str__(self):
        return _("异议 #%(pk)s（名单 #%(list)s）") % {"pk": self.pk, "list": self.auto_list_id}


class PaymentResultsUpload(UploadRecord):
    """A payment results file of a list's payment list (支付结果), uploaded through ``core.uploads``."""

    auto_list = models.ForeignKey(AutoList, on_delete=models.PROTECT, related_name="result_uploads",
                                  verbose_name=_("免申即享名单"))

    class Meta(UploadRecord.Meta):
        verbose_name = _("支付结果文件")
        verbose_name_plural = pgettext_lazy("plural", "支付结果文件")
# --- precise push (精准推送) ----------------------------------------------------------------------------------


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内消息")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


EXTERNAL_CHANNELS = (Channel.SMS, Channel.EMAIL)


class PushConsent(models.Model):
    """An enterprise's consent to pushes by SMS or e-mail: who gave it, when, how and to which address; a
    withdrawal keeps the row (who, when). At most one consent in force per enterprise and channel."""

    class How(models.TextChoices):
        ONLINE = "online", _("平台在线勾选")
        PAPER = "paper", _("书面同意书")
        PHONE = "phone", _("电话确认")

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    channel = models.CharField(_("渠道"), max_length=6, choices=[(c.value, c.label) for c in EXTERNAL_CHANNELS])
    address = models.CharField(_("接收号码或地址"), max_length=200)
    how = models.CharField(_("同意方式"), max_length=8, choices=How.choices, default=How.ONLINE)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("同意人"))
    given_at = models.DateTimeField(_("同意时间"))
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("撤回人"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送同意")
        verbose_name_plural = pgettext_lazy("plural", "推送同意")
        ordering = ["enterprise_id", "channel", "-given_at"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "channel"], condition=Q(withdrawn_at__isnull=True),
                                               name="policies_consent_one_in_force")]

    def __str__(self):
        return f"{self.enterprise_id} {self.channel}"


class SavedFilter(models.Model):
    """A facet filter an enterprise saved (``{facet: [tag, …]}``); while ``push`` is on, the items it passes
    are pushed. An enterprise that saved none is pushed every item it matches."""

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    name = models.CharField(_("名称"), max_length=60)
    facets = models.JSONField(_("筛选条件"), default=dict)
    push = models.BooleanField(_("推送"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("保存的筛选")
        verbose_name_plural = pgettext_lazy("plural", "保存的筛选")
        ordering = ["enterprise_id", "id"]

    def __str__(self):
        return self.name


class Unsubscription(models.Model):
    """An enterprise's unsubscription from one item, from one channel, or from every push; ``ended_at``
    when it subscribed again. (A saved filter is unsubscribed by turning its ``push`` off.)"""

    class Scope(models.TextChoices):
        ITEM = "item", _("某一事项")
        CHANNEL = "channel", _("某一渠道")
        ALL = "all", _("全部推送")

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    scope = models.CharField(_("范围"), max_length=8, choices=Scope.choices)
    item = models.ForeignKey(PolicyItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("政策事项"))
    channel = models.CharField(_("渠道"), max_length=6, choices=Channel.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("退订人"))
    created_at = models.DateTimeField(_("退订时间"), default=timezone.now)
    ended_at = models.DateTimeField(_("恢复订阅时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退订")
        verbose_name_plural = pgettext_lazy("plural", "退订")
        ordering = ["enterprise_id", "-created_at"]
        constraints = [models.CheckConstraint(
            condition=(Q(scope="item", item__isnull=False, channel="") | Q(scope="channel", item__isnull=True)
                       & ~Q(channel="") | Q(scope="all", item__isnull=True, channel="")),
            name="policies_unsubscription_shape")]

    def __str__(self):
        return f"{self.enterprise_id} {self.scope}"


class PushTrigger(models.Model):
    """A version whose publication may bring new matches (its item's first, or one whose criteria differ
    from the version it replaced): the digest of ``due_on`` tells who newly matches, then marks it done."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="+", verbose_name=_("版本"))
    previous = models.ForeignKey(ItemVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("被替代的版本"))
    due_on = models.DateField(_("推送日"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    done_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送触发")
        verbose_name_plural = pgettext_lazy("plural", "推送触发")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["due_on"], name="policies_trigger_due", condition=Q(done_at__isnull=True))]


class PushMessage(models.Model):
    """One message to one enterprise on one channel on one day (the day's digest): its entries are the items
    it tells of. States: queued → sent → delivered → opened, or failed; an inbox message is delivered by
    being stored. ``capped``: an inbox message that stood in for an SMS or e-mail over the weekly cap."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        SENT = "sent", _("已发送")
        DELIVERED = "delivered", _("已送达")
        OPENED = "opened", _("已打开")
        FAILED = "failed", _("发送失败")

    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.CASCADE, related_name="+",
                                   verbose_name=_("企业"))
    channel = models.CharField(_("渠道"), max_length=6, choices=Channel.choices)
    day = models.DateField(_("推送日"))
    scheduled_at = models.DateTimeField(_("推送时刻"))
    address = models.CharField(_("接收号码或地址"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    capped = models.BooleanField(_("超出频次上限转站内"), default=False)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    opened_at = models.DateTimeField(_("打开时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("失败时间"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    token = models.CharField(_("链接令牌"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("推送消息")
        verbose_name_plural = pgettext_lazy("plural", "推送消息")
        ordering = ["-scheduled_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "channel", "day"],
                                               name="policies_push_one_per_day")]
        indexes = [models.Index(fields=["enterprise", "channel", "scheduled_at"], name="policies_push_recent"),
                   models.Index(fields=["day", "channel"], name="policies_push_day")]

    def __str__(self):
        return f"{self.enterprise_id} {self.channel} {self.day}"


class PushEntry(models.Model):
    """An item a message tells of, and why: a new match, a closing reminder, or (inbox only) a request for
    the facts its outcome is missing."""

    class Reason(models.TextChoices):
        NEW_MATCH = "new_match", _("新匹配政策")
        REMINDER = "reminder", _("申报截止提醒")
        ASK = "ask", _("请补充信息")

    message = models.ForeignKey(PushMessage, on_delete=models.CASCADE, related_name="entries",
                                verbose_name=_("推送消息"))
    item = models.ForeignKey(PolicyItem, on_delete=models.CASCADE, related_name="+", verbose_name=_("政策事项"))
    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="+", verbose_name=_("版本"))
    reason = models.CharField(_("原因"), max_length=10, choices=Reason.choices)
    missing = models.JSONField(_("缺少的信息"), default=list, blank=True)

    class Meta:
        verbose_name = _("推送内容")
        verbose_name_plural = pgettext_lazy("plural", "推送内容")
        ordering = ["message_id", "reason", "item_id"]
        constraints = [models.UniqueConstraint(fields=["message", "item", "reason"], name="policies_entry_once")]
        indexes = [models.Index(fields=["item", "reason"], name="policies_entry_item")]


class ItemView(models.Model):
    """Views of an item's page per day: one row per signed-in enterprise (distinct enterprises), and one row
    with no enterprise counting the views of readers who act for none."""

    item = models.ForeignKey(PolicyItem, on_delete=models.CASCADE, related_name="+", verbose_name=_("政策事项"))
    day = models.DateField(_("日期"))
    enterprise = models.ForeignKey("registry.Enterprise", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+", verbose_name=_("企业"))
    count = models.PositiveIntegerField(_("浏览次数"), default=0)

    class Meta:
        verbose_name = _("政策浏览")
        verbose_name_plural = pgettext_lazy("plural", "政策浏览")
        constraints = [
            models.UniqueConstraint(fields=["item", "day", "enterprise"], name="policies_view_per_enterprise"),
            models.UniqueConstraint(fields=["item", "day"], condition=Q(enterprise__isnull=True),
                                    name="policies_view_anonymous"),
        ]
