"""Users and the organisation each acts for: an enterprise, a district, a department, a bank, a fund institution."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _, pgettext_lazy


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业用户")
    DISTRICT = "district", _("区级人员")
    DEPARTMENT = "department", _("部门经办人")
    BUREAU = "bureau", _("局工作人员")
    BANK = "bank", _("银行人员")
    INSTITUTION = "institution", _("基金机构人员")
    AUDITOR = "auditor", _("审计人员")
    ADMIN = "admin", _("系统管理员")


# Which organisation field a role must carry.
ROLE_ORGANISATION = {
    Role.DISTRICT: "district",
    Role.DEPARTMENT: "agency",
    Role.BANK: "bank",
    Role.INSTITUTION: "institution",
}


class User(AbstractUser):
    """A person (or a bank's machine client) using the platform, in exactly one role."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    phone = models.CharField(_("手机"), max_length=20, blank=True)
    district = models.ForeignKey("registry.District", null=True, blank=True, on_delete=models.PROTECT,
                                 verbose_name=_("所属区"))
    agency = models.ForeignKey("registry.Agency", null=True, blank=True, on_delete=models.PROTECT,
                               verbose_name=_("所属部门"))
    bank = models.ForeignKey("registry.Bank", null=True, blank=True, on_delete=models.PROTECT,
                             verbose_name=_("所属银行"))
    institution = models.ForeignKey("registry.FundInstitution", null=True, blank=True, on_delete=models.PROTECT,
                                    verbose_name=_("所属机构"))
    enterprises = models.ManyToManyField("registry.Enterprise", through="EnterpriseMembership",
                                         related_name="members", blank=True, verbose_name=_("关联企业"))
    is_demo = models.BooleanField(_("演示账户"), default=False)
    failed_logins = models.PositiveIntegerField(_("连续登录失败次数"), default=0)
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    objects = UserManager()

    AUDIT_MASK = {"password": lambda value: "******"}

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="district") | models.Q(district__isnull=False),
                name="district_officer_has_district",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="bank") | models.Q(bank__isnull=False), name="bank_staff_has_bank"
            ),
            models.CheckConstraint(
                condition=~models.Q(role="department") | models.Q(agency__isnull=False),
                name="handler_has_department",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="institution") | models.Q(institution__isnull=False),
                name="institution_staff_has_institution",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def organisation(self):
        field = ROLE_ORGANISATION.get(self.role)
        return getattr(self, field) if field else None


class EnterpriseMembership(models.Model):
    """An enterprise user acts for this enterprise."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, verbose_name=_("用户"))
    enterprise = models.ForeignKey("registry.Enterprise", on_delete=models.CASCADE, verbose_name=_("企业"))
    created_at = models.DateTimeField(_("关联时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业授权")
        constraints = [models.UniqueConstraint(fields=["user", "enterprise"], name="membership_unique")]


class ApiToken(models.Model):
    """A key to the API for a machine client, acting as its user until it expires or is revoked.

    The key is shown once, when it is issued; only its SHA-256 digest is stored (and its first
    characters, so that its owner can tell it from the others)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("用户"))
    digest = models.CharField(_("摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("开头"), max_length=8)
    name = models.CharField(_("用途"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("签发时间"))
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("撤销人"))

    AUDIT_MASK = {"digest": lambda value: "******"}

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = pgettext_lazy("plural", "接口令牌")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(expires_at__gt=models.F("created_at")),
                                              name="api_token_expires_after_issue")]

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}".strip()

    def state(self, now) -> str:
        """``revoked``, ``expired`` or ``active`` at ``now``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"
