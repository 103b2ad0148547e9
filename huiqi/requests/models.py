"""Enterprise requests (深i企诉求): one model for every channel, its append-only history, routing rules,
categories and response templates as data, deadline extensions, common problems, the notification outbox.

Deadlines are dates (the end of that day, Asia/Shanghai) on the official working-day calendar
(``core.workdays``). ``due_date`` is the deadline that runs now (to accept while submitted, to answer
while accepted or in progress, none while waiting for the enterprise or once answered): the overdue
sweep and the lists read that one column.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, pgettext_lazy

from huiqi.core.i18n import localized


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("已签收")
    IN_PROGRESS = "in_progress", _("办理中")
    WAITING = "waiting", _("待企业补充")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING, Status.ANSWERED)
# Statuses in which a department's deadline runs.
RUNNING_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS)

# The state machine: action → (statuses it starts from, status it leads to). One service per action
# (``services``); nothing else changes ``status``. Send-back and transfer return a request to
# "submitted" so that the department it goes to must accept it in its own time.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({Status.SUBMITTED}), Status.ACCEPTED),
    "start": (frozenset({Status.ACCEPTED}), Status.IN_PROGRESS),
    "ask_enterprise": (frozenset({Status.ACCEPTED, Status.IN_PROGRESS}), Status.WAITING),
    "reply": (frozenset({Status.WAITING}), Status.IN_PROGRESS),
    "answer": (frozenset({Status.ACCEPTED, Status.IN_PROGRESS}), Status.ANSWERED),
    "close": (frozenset({Status.ANSWERED}), Status.CLOSED),
    "auto_close": (frozenset({Status.ANSWERED}), Status.CLOSED),
    "reopen": (frozenset({Status.ANSWERED}), Status.IN_PROGRESS),
    "send_back": (frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS}), Status.SUBMITTED),
    "transfer": (frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS}), Status.SUBMITTED),
}


class Channel(models.TextChoices):
    WEB = "web", _("企业网上提交")
    HOTLINE = "hotline", _("12345 热线")
    API = "api", _("接口")
    OPEN311 = "open311", "Open311"


def _user_fk(label: str, **kw):
    return models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=label, **kw)


class Category(models.Model):
    """A kind of request (融资, 用工社保, …) with its default department and deadlines in working days."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名"), max_length=80)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    keywords = models.CharField(_("关键词"), max_length=300, blank=True)
    default_agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("默认责任部门"))
    accept_days = models.PositiveSmallIntegerField(_("签收时限（工作日）"), default=1)
    answer_days = models.PositiveSmallIntegerField(_("答复时限（工作日）"), default=5)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = pgettext_lazy("plural", "诉求类别")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(accept_days__gte=1, answer_days__gte=1),
                                   name="request_category_days_positive"),
        ]

    def __str__(self) -> str:
        return localized(self)


class RoutingRule(models.Model):
    """One line of the routing table: the first active rule (by ``order``) whose every given condition
    matches assigns the department (and, optionally, a handler). An empty condition matches anything."""

    order = models.PositiveIntegerField(_("顺序"), default=100)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name=_("类别"))
    district = models.ForeignKey("registry.District", null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name=_("区"))
    keywords = models.CharField(_("关键词（任一，逗号分隔）"), max_length=300,
                                blank=True)
    size_class = models.CharField(_("企业规模"), max_length=10, blank=True)
    industry_section = models.CharField(_("行业门类"), max_length=1, blank=True)
    key_enterprise = models.BooleanField(_("重点企业"), null=True, blank=True)
    agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("分派部门"))
    handler = _user_fk(_("指定经办人"), limit_choices_to={"role": "department"})

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = pgettext_lazy("plural", "分派规则")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class ResponseTemplate(models.Model):
    """A reply text a handler starts from, per category."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="templates",
                                 verbose_name=_("类别"))
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("正文"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("答复模板")
        verbose_name_plural = pgettext_lazy("plural", "答复模板")
        ordering = ["category", "id"]

    def __str__(self) -> str:
        return self.title


class DepartmentHead(models.Model):
    """A department handler who is also the head of the department (部门负责人): overdue requests of the
    department escalate to them first, and they approve extensions. Kept here, not as a role: a head is
    a department user with one more duty."""

    agency = models.ForeignKey("registry.Agency", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("部门"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("负责人"), limit_choices_to={"role": "department"})

    class Meta:
        verbose_name = _("部门负责人")
        verbose_name_plural = pgettext_lazy("plural", "部门负责人")
        constraints = [models.UniqueConstraint(fields=["agency", "user"], name="department_head_unique")]

    def __str__(self) -> str:
        return f"{self.agency} · {self.user}"


class CommonProblem(models.Model):
    """A problem many enterprises raised (共性问题): its requests are linked here and answered together."""

    title = models.CharField(_("标题"), max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name=_("类别"))
    agency = models.ForeignKey("registry.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("牵头部门"))
    answer = models.TextField(_("统一答复"), blank=True)
    created_by = _user_fk(_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("共性问题")
        verbose_name_plural = pgettext_lazy("plural", "共性问题")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class EnterpriseRequest(models.Model):
    """One request of one enterprise (企业诉求), whatever channel it came by."""

    number = models.CharField(_("诉求编号"), max_length=40, unique=True)
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("企业"))
    # The enterprise's district at submission, kept for scoping and figures without a join.
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("区"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="requests",
                                 verbose_name=_("类别"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("诉求内容"))
    tokens = models.TextField(_("分词"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    contact_email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)

    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("责任部门"))
    handler = _user_fk(_("经办人"))
    routing_rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("分派规则"))
    common_problem = models.ForeignKey(CommonProblem, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="requests", verbose_name=_("共性问题"))

    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    accept_deadline = models.DateField(_("签收期限"), null=True, blank=True)
    answer_deadline = models.DateField(_("答复期限"), null=True, blank=True)
    due_date = models.DateField(_("当前期限"), null=True, blank=True)
    accepted_on_time = models.BooleanField(_("按时签收"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("按时答复"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停计时于"), null=True, blank=True)
    paused_days = models.PositiveIntegerField(_("累计暂停工作日"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("升级层级"), default=0)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    supervised = models.BooleanField(_("督办"), default=False)
    answer = models.TextField(_("答复"), blank=True)
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    closed_automatically = models.BooleanField(_("自动办结"), default=False)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    created_by = _user_fk(_("录入人"))

    class Meta:
        verbose_name = _("企业诉求")
        verbose_name_plural = pgettext_lazy("plural", "企业诉求")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "status", "-submitted_at"], name="request_agency_status"),
            models.Index(fields=["agency", "-submitted_at", "-id"], name="request_agency_submitted"),
            models.Index(fields=["district", "-submitted_at"], name="request_district"),
            models.Index(fields=["enterprise", "-submitted_at"], name="request_enterprise"),
            models.Index(fields=["due_date"], name="request_due_open",
                         condition=Q(status__in=["submitted", "accepted", "in_progress"])),
            models.Index(fields=["category", "status"], name="request_category_status"),
            models.Index(fields=["-submitted_at"], name="request_submitted"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="request_rating_1_to_5"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="request_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="request_channel_valid"),
            models.CheckConstraint(condition=~Q(status="closed") | Q(closed_at__isnull=False),
                                   name="request_closed_has_time"),
            models.CheckConstraint(condition=Q(escalation_level__lte=2), name="request_escalation_level"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def clock_paused(self) -> bool:
        return self.status == Status.WAITING


class RequestEvent(models.Model):
    """One step of a request's history (append-only): who, when, from which status to which, and what
    was said. ``internal`` notes are for staff only; the enterprise sees every other step."""

    request = models.ForeignKey(EnterpriseRequest, on_delete=models.CASCADE, related_name="events",
                                verbose_name=_("诉求"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    actor = _user_fk(_("操作人"))
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=30)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, blank=True)
    note = models.TextField(_("说明"), blank=True)
    internal = models.BooleanField(_("内部备注"), default=False)
    data = models.JSONField(_("数据"), null=True, blank=True)

    class Meta:
        verbose_name = _("诉求办理记录")
        verbose_name_plural = pgettext_lazy("plural", "诉求办理记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="request_event_request")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("request history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("request history is append-only")


def _attachment_path(instance, filename):
    now = timezone.localtime()
    return f"requests/{now:%Y/%m}/{instance.request_id}/{filename}"


class Attachment(models.Model):
    """A file given with a request or a reply; type and size checked on the way in (``rules``)."""

    request = models.ForeignKey(EnterpriseRequest, on_delete=models.CASCADE, related_name="attachments",
                                verbose_name=_("诉求"))
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    kind = models.CharField(_("类型"), max_length=10)
    uploaded_by = _user_fk(_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("诉求附件")
        verbose_name_plural = pgettext_lazy("plural", "诉求附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Extension(models.Model):
    """A department's request for more working days, with its reason; granted or refused by the head of
    the department or the bureau, never by the one who asked."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("未批准")

    request = models.ForeignKey(EnterpriseRequest, on_delete=models.CASCADE, related_name="extensions",
                                verbose_name=_("诉求"))
    days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.CharField(_("理由"), max_length=500)
    status = models.CharField(_("审批"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    requested_by = _user_fk(_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = _user_fk(_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = pgettext_lazy("plural", "延期申请")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1), name="request_extension_days_positive"),
            models.UniqueConstraint(fields=["request"], condition=Q(status="pending"),
                                    name="request_one_pending_extension"),
        ]

    def __str__(self) -> str:  # a request number and the working days asked: the same in every language
        return f"{self.request.number} +{self.days}"


class Notification(models.Model):
    """The outbox. Every message is one row per recipient and channel; in-platform messages are
    delivered by being stored; e-mail and SMS rows wait here until a delivery succeeds (retried with
    growing pauses), so nothing is lost while a channel is down."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("站内消息")
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", verbose_name=_("收件人"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    channel = models.CharField(_("渠道"), max_length=6, choices=Channel.choices)
    subject = models.CharField(_("标题"), max_length=500)
    body = models.TextField(_("内容"))
    request = models.ForeignKey(EnterpriseRequest, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="notifications", verbose_name=_("诉求"))
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=120, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "-created_at"], name="notification_inbox"),
            models.Index(fields=["next_attempt_at"], name="notification_pending",
                         condition=Q(state="pending")),
        ]
