"""Registry reads, every one scoped to the asking user."""

from __future__ import annotations

from django.db.models import Count, Q

from huiqi.accounts.scoping import CITY_WIDE_READERS, role_of
from huiqi.core.identifiers import normalize_uscc

from .models import Bank, BusinessOwner, District, Enterprise, FundInstitution, Industry, RegistryImport


def enterprises_for(user):
    return Enterprise.objects.for_user(user).select_related("district", "industry")


def search_enterprises(user, *, q: str = "", district: str = "", industry: str = "", size: str = "",
                       kind: str = "", key: str = ""):
    """Enterprises the user may see, filtered. ``q`` matches a USCC (whole or its start) or any part
    of the name, Chinese included; ``industry`` is a section letter, division or group code."""
    qs = enterprises_for(user)
    q = (q or "").strip()
    if q:
        code = normalize_uscc(q)
        if len(code) >= 6 and code.isalnum() and code.isascii():
            qs = qs.filter(Q(uscc__startswith=code) | Q(name__icontains=q))
        else:
            qs = qs.filter(name__icontains=q)
    if district:
        qs = qs.filter(district_id=district)
    if industry:
        industry = industry.strip().upper()
        if len(industry) == 1:
            qs = qs.filter(industry__section=industry)
        else:
            qs = qs.filter(industry__code__startswith=industry)
    if size:
        qs = qs.filter(size_class=size)
    if kind:
        qs = qs.filter(kind=kind)
    if key in ("1", "true", "yes"):
        qs = qs.filter(is_key_enterprise=True)
    return qs.order_by("name", "uscc")


def enterprise_detail(user, uscc: str) -> Enterprise:
    return enterprises_for(user).prefetch_related("owners").get(uscc=normalize_uscc(uscc))


def owners_for(user):
    """Business owners linked to enterprises the user may see."""
    visible = Enterprise.objects.for_user(user)
    if role_of(user) in CITY_WIDE_READERS:
        return BusinessOwner.objects.all()
    return BusinessOwner.objects.filter(enterprises__in=visible).distinct()


def summary_for(user) -> dict:
    """Headline counts for the home page, within the user's scope."""
    qs = Enterprise.objects.for_user(user)
    by_size = dict(qs.order_by().values_list("size_class").annotate(n=Count("id")))
    return {
        "enterprises": sum(by_size.values()),
        "by_size": [(code, label, by_size.get(code, 0)) for code, label in Enterprise.Size.choices],
        "banks_signed": Bank.objects.filter(signed_date__isnull=False).count(),
        "banks_onboarded": Bank.objects.filter(onboarded_date__isnull=False).count(),
    }


def districts():
    return District.objects.all()


def industries(level: str | None = None):
    qs = Industry.objects.all()
    return qs.filter(level=level) if level else qs


def banks():
    """Partner banks are public reference data: every signed-in role sees the list."""
    return Bank.objects.all()


def institutions():
    return FundInstitution.objects.all()


def imports_for(user):
    if not user.has_perm("registry.import"):
        return RegistryImport.objects.none()
    return RegistryImport.objects.all()
