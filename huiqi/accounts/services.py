"""Writes on users: creating one in a role, with its organisation, audited."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from huiqi.core import audit
from huiqi.core.errors import ValidationFailed

from .models import ROLE_ORGANISATION, Role, User


@transaction.atomic
def create_user(actor, *, username: str, password: str, role: str, display_name: str = "",
                district=None, agency=None, bank=None, institution=None, enterprises=(),
                is_demo: bool = False, check_password: bool = True) -> User:
    """Create a user in one role with the organisation that role requires."""
    if role not in Role.values:
        raise ValidationFailed("user.role", f"未知角色 {role}", f"unknown role {role}", field="role")
    if User.objects.filter(username=username).exists():
        raise ValidationFailed("user.exists", f"用户名 {username} 已存在", f"user name {username} is taken",
                               field="username")
    orgs = {"district": district, "agency": agency, "bank": bank, "institution": institution}
    needed = ROLE_ORGANISATION.get(role)
    if needed and orgs[needed] is None:
        raise ValidationFailed("user.organisation", f"该角色必须指定 {needed}", f"role {role} needs a {needed}",
                               field=needed)
    if role == Role.ENTERPRISE and not enterprises:
        raise ValidationFailed("user.enterprises", "企业用户必须关联至少一家企业",
                               "an enterprise user must act for at least one enterprise", field="enterprises")
    if check_password:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise ValidationFailed("user.password", "密码不符合要求：" + "；".join(exc.messages),
                                   "password rejected: " + "; ".join(exc.messages), field="password") from exc
    user = User(username=username, role=role, display_name=display_name, is_demo=is_demo,
                is_staff=role in (Role.ADMIN, Role.BUREAU), is_superuser=role == Role.ADMIN,
                **{k: v for k, v in orgs.items() if k == needed})
    user.set_password(password)
    user.save()
    if enterprises:
        user.enterprises.set(enterprises)
    audit.record(actor, "create", user, after={"username": username, "role": role,
                                                "organisation": str(user.organisation or ""),
                                                "enterprises": [e.uscc for e in enterprises]})
    return user
