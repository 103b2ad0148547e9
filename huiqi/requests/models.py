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


class Status(models.TextChoices):
    SUBMITTED = "submitted", "已提交 submitted"
    ACCEPTED = "accepted", "已签收 accepted"
    IN_PROGRESS = "in_progress", "办理中 in progress"
    WAITING = "waiting", "待企业补充 waiting for the enterprise"
    ANSWERED = "answered", "已答复 answered"
    CLOSED = "closed", "已办结 closed"


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
    WEB = "web", "企业网上提交 enterprise form"
    HOTLINE = "hotline", "12345 热线 hotline"
    API = "api", "接口 API"
    OPEN311 = "open311", "Open311"


def _user_fk(label: str, **kw):
    return models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=label, **kw)


class Category(models.Model):
    """A kind of request (融资, 用工社保, …) with its default department and deadlines in working days."""

    code = models.SlugField("代码 code", max_length=30, unique=True)
    name = models.CharField("名称 name", max_length=50)
    name_en = models.CharField("英文名 English name", max_length=80)
    description = models.CharField("说明 description", max_length=300, blank=True)
    keywords = models.CharField("关键词 keywords", max_length=300, blank=True)
    default_agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="+",
                                       verbose_name="默认责任部门 default department")
    accept_days = models.PositiveSmallIntegerField("签收时限（工作日） days to accept", default=1)
    answer_days = models.PositiveSmallIntegerField("答复时限（工作日） days to answer", default=5)
    order = models.PositiveSmallIntegerField("顺序 order", default=0)
    active = models.BooleanField("启用 active", default=True)

    class Meta:
        verbose_name = "诉求类别 request category"
        verbose_name_plural = "诉求类别 request categories"
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(accept_days__gte=1, answer_days__gte=1),
                                   name="request_category_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """One line of the routing table: the first active rule (by ``order``) whose every given condition
    matches assigns the department (and, optionally, a handler). An empty condition matches anything."""

    order = models.PositiveIntegerField("顺序 order", default=100)
    name = models.CharField("名称 name", max_length=100)
    active = models.BooleanField("启用 active", default=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name="类别 category")
    district = models.ForeignKey("registry.District", null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name="区 district")
    keywords = models.CharField("关键词（任一，逗号分隔） keywords (any, comma separated)", max_length=300,
                                blank=True)
    size_class = models.CharField("企业规模 size", max_length=10, blank=True)
    industry_section = models.CharField("行业门类 industry section", max_length=1, blank=True)
    key_enterprise = models.BooleanField("重点企业 key enterprise", null=True, blank=True)
    agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="+",
                               verbose_name="分派部门 department")
    handler = _user_fk("指定经办人 handler", limit_choices_to={"role": "department"})

    class Meta:
        verbose_name = "分派规则 routing rule"
        verbose_name_plural = "分派规则 routing rules"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class ResponseTemplate(models.Model):
    """A reply text a handler starts from, per category."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="templates",
                                 verbose_name="类别 category")
    title = models.CharField("标题 title", max_length=100)
    body = models.TextField("正文 text")
    active = models.BooleanField("启用 active", default=True)

    class Meta:
        verbose_name = "答复模板 response template"
        verbose_name_plural = "答复模板 response templates"
        ordering = ["category", "id"]

    def __str__(self) -> str:
        return self.title


class DepartmentHead(models.Model):
    """A department handler who is also the head of the department (部门负责人): overdue requests of the
    department escalate to them first, and they approve extensions. Kept here, not as a role: a head is
    a department user with one more duty."""

    agency = models.ForeignKey("registry.Agency", on_delete=models.CASCADE, related_name="+",
                               verbose_name="部门 department")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
                             verbose_name="负责人 head", limit_choices_to={"role": "department"})

    class Meta:
        verbose_name = "部门负责人 department head"
        verbose_name_plural = "部门负责人 department heads"
        constraints = [models.UniqueConstraint(fields=["agency", "user"], name="department_head_unique")]

    def __str__(self) -> str:
        return f"{self.agency} · {self.user}"


class CommonProblem(models.Model):
    """A problem many enterprises raised (共性问题): its requests are linked here and answered together."""

    title = models.CharField("标题 title", max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, verbose_name="类别 category")
    agency = models.ForeignKey("registry.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name="牵头部门 lead department")
    answer = models.TextField("统一答复 joint answer", blank=True)
    created_by = _user_fk("创建人 created by")
    created_at = models.DateTimeField("创建时间 created", default=timezone.now)
    answered_at = models.DateTimeField("答复时间 answered", null=True, blank=True)

    class Meta:
        verbose_name = "共性问题 common problem"
        verbose_name_plural = "共性问题 common problems"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class EnterpriseRequest(models.Model):
    """One request of one enterprise (企业诉求), whatever channel it came by."""

    number = models.CharField("诉求编号 number", max_length=40, unique=True)
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="企业 enterprise")
    # The enterprise's district at submission, kept for scoping and figures without a join.
    district = models.ForeignKey("registry.District", on_delete=models.PROTECT, related_name="+",
                                 verbose_name="区 district")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="requests",
                                 verbose_name="类别 category")
    channel = models.CharField("渠道 channel", max_length=10, choices=Channel.choices)
    title = models.CharField("标题 title", max_length=100)
    description = models.TextField("诉求内容 description")
    tokens = models.TextField("分词 tokens", blank=True)
    contact_name = models.CharField("联系人 contact", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话 phone", max_length=30, blank=True)
    contact_email = models.EmailField("电子邮箱 e-mail", blank=True)
    address = models.CharField("地址 address", max_length=200, blank=True)
    lat = models.DecimalField("纬度 latitude", max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField("经度 longitude", max_digits=9, decimal_places=6, null=True, blank=True)

    status = models.CharField("状态 status", max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    agency = models.ForeignKey("registry.Agency", on_delete=models.PROTECT, related_name="+",
                               verbose_name="责任部门 department")
    handler = _user_fk("经办人 handler")
    routing_rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name="分派规则 routing rule")
    common_problem = models.ForeignKey(CommonProblem, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="requests", verbose_name="共性问题 common problem")

    submitted_at = models.DateTimeField("提交时间 submitted", default=timezone.now)
    accepted_at = models.DateTimeField("签收时间 accepted", null=True, blank=True)
    answered_at = models.DateTimeField("答复时间 answered", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间 closed", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间 updated", default=timezone.now)
    accept_deadline = models.DateField("签收期限 accept by", null=True, blank=True)
    answer_deadline = models.DateField("答复期限 answer by", null=True, blank=True)
    due_date = models.DateField("当前期限 due", null=True, blank=True)
    accepted_on_time = models.BooleanField("按时签收 accepted on time", null=True, blank=True)
    answered_on_time = models.BooleanField("按时答复 answered on time", null=True, blank=True)
    paused_at = models.DateTimeField("暂停计时于 clock paused at", null=True, blank=True)
    paused_days = models.PositiveIntegerField("累计暂停工作日 working days paused", default=0)
    escalation_level = models.PositiveSmallIntegerField("升级层级 escalation level", default=0)
    escalated_at = models.DateTimeField("升级时间 escalated", null=True, blank=True)
    supervised = models.BooleanField("督办 under supervision", default=False)
    answer = models.TextField("答复 answer", blank=True)
    rating = models.PositiveSmallIntegerField("满意度 rating", null=True, blank=True)
    rating_comment = models.CharField("评价 comment", max_length=500, blank=True)
    closed_automatically = models.BooleanField("自动办结 closed automatically", default=False)
    reopen_count = models.PositiveSmallIntegerField("重办次数 times reopened", default=0)
    created_by = _user_fk("录入人 entered by")

    class Meta:
        verbose_name = "企业诉求 enterprise request"
        verbose_name_plural = "企业诉求 enterprise requests"
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

    request = models.ForeignKey(EnterpriseRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间 when", default=timezone.now)
    actor = _user_fk("操作人 who")
    actor_label = models.CharField("操作人 who", max_length=150, blank=True)
    action = models.CharField("动作 action", max_length=30)
    from_status = models.CharField("原状态 from", max_length=12, blank=True)
    to_status = models.CharField("新状态 to", max_length=12, blank=True)
    note = models.TextField("说明 note", blank=True)
    internal = models.BooleanField("内部备注 internal", default=False)
    data = models.JSONField("数据 data", null=True, blank=True)

    class Meta:
        verbose_name = "诉求办理记录 request event"
        verbose_name_plural = "诉求办理记录 request events"
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

    request = models.ForeignKey(EnterpriseRequest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("文件 file", upload_to=_attachment_path, max_length=300)
    name = models.CharField("文件名 name", max_length=200)
    size = models.PositiveIntegerField("大小（字节） size (bytes)")
    kind = models.CharField("类型 type", max_length=10)
    uploaded_by = _user_fk("上传人 uploaded by")
    uploaded_at = models.DateTimeField("上传时间 uploaded", default=timezone.now)

    class Meta:
        verbose_name = "诉求附件 attachment"
        verbose_name_plural = "诉求附件 attachments"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Extension(models.Model):
    """A department's request for more working days, with its reason; granted or refused by the head of
    the department or the bureau, never by the one who asked."""

    class Decision(models.TextChoices):
        PENDING = "pending", "待审批 pending"
        APPROVED = "approved", "已批准 approved"
        REFUSED = "refused", "未批准 refused"

    request = models.ForeignKey(EnterpriseRequest, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveSmallIntegerField("延长工作日 working days")
    reason = models.CharField("理由 reason", max_length=500)
    status = models.CharField("审批 decision", max_length=10, choices=Decision.choices, default=Decision.PENDING)
    requested_by = _user_fk("申请人 asked by")
    requested_at = models.DateTimeField("申请时间 asked", default=timezone.now)
    decided_by = _user_fk("审批人 decided by")
    decided_at = models.DateTimeField("审批时间 decided", null=True, blank=True)
    decision_note = models.CharField("审批意见 note", max_length=500, blank=True)

    class Meta:
        verbose_name = "延期申请 extension"
        verbose_name_plural = "延期申请 extensions"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1), name="request_extension_days_positive"),
            models.UniqueConstraint(fields=["request"], condition=Q(status="pending"),
                                    name="request_one_pending_extension"),
        ]


class Notification(models.Model):
    """The outbox. Every message is one row per recipient and channel; in-platform messages are
    delivered by being stored; e-mail and SMS rows wait here until a delivery succeeds (retried with
    growing pauses), so nothing is lost while a channel is down."""

    class Channel(models.TextChoices):
        INBOX = "inbox", "站内消息 in-platform"
        EMAIL = "email", "电子邮件 e-mail"
        SMS = "sms", "短信 SMS"

    class State(models.TextChoices):
        PENDING = "pending", "待发送 pending"
        SENT = "sent", "已发送 sent"
        FAILED = "failed", "发送失败 failed"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    address = models.CharField("地址 address", max_length=200, blank=True)
    channel = models.CharField("渠道 channel", max_length=6, choices=Channel.choices)
    subject = models.CharField("标题 subject", max_length=200)
    body = models.TextField("内容 text")
    request = models.ForeignKey(EnterpriseRequest, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="notifications")
    state = models.CharField("状态 state", max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数 attempts", default=0)
    last_error = models.CharField("最近错误 last error", max_length=500, blank=True)
    next_attempt_at = models.DateTimeField("下次尝试 next attempt", default=timezone.now)
    created_at = models.DateTimeField("创建时间 created", default=timezone.now)
    sent_at = models.DateTimeField("发送时间 sent", null=True, blank=True)
    read_at = models.DateTimeField("阅读时间 read", null=True, blank=True)
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = "通知 notification"
        verbose_name_plural = "通知 notifications"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "-created_at"], name="notification_inbox"),
            models.Index(fields=["next_attempt_at"], name="notification_pending",
                         condition=Q(state="pending")),
        ]
