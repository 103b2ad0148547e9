"""Registry reads. Pages read through the ``*_for(user)`` selectors, scoped to the asking user; other
apps read the reference data and look enterprises up through the unscoped ones below, applying their
own scoping (they may not name the registry's models)."""

from __future__ import annotations

from django.db.models import Count

from huiqi.accounts.selectors import CITY_WIDE_READERS, role_of
from huiqi.core.identifiers import normalize_uscc

from .permissions import scope_enterprises  # noqa: F401 - other apps scope through it
from .models import (Agency, Bank, BusinessOwner, DishonestDebtorListing, District, Enterprise, FundInstitution, Industry,
                     RegistryImport)


def enterprises_for(user):
    return Enterprise.objects.for_user(user).select_related("district", "industry")


def enterprises_listed(user):
    """The enterprises the user may see, by name (``filters.EnterpriseFilter`` narrows the list)."""
    return enterprises_for(user).order_by("name", "uscc")


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


def agencies():
    return Agency.objects.all()


def enterprises():
    """Every enterprise, unscoped: for another app's own queries (it scopes what it shows)."""
    return Enterprise.objects.all()


def owners_with_enterprises() -> list[tuple[str, str, tuple[str, ...]]]:
    """Every business owner as (resident ID, name, the USCCs it owns), owners and links in stored order."""
    owns: dict[int, list[str]] = {}
    for owner_id, uscc in (BusinessOwner.enterprises.through.objects.order_by("businessowner_id", "id")
                           .values_list("businessowner_id", "enterprise__uscc")):
        owns.setdefault(owner_id, []).append(uscc)
    return [(rid, name, tuple(owns.get(pk, ()))) for pk, rid, name in
            BusinessOwner.objects.order_by("id").values_list("id", "resident_id", "name")]


SIZE_CHOICES = Enterprise.Size.choices
SIZE_VALUES = Enterprise.Size.values
KIND_CHOICES = Enterprise.Kind.choices

# What ``organisation`` finds: an organisation a user may act for, by its code.
_ORGANISATIONS = {
    "district": (District, "code"), "agency": (Agency, "code"), "bank": (Bank, "code"),
    "institution": (FundInstitution, "code"), "enterprise": (Enterprise, "uscc"),
}


def organisation(kind: str, code: str):
    """The district, department (agency), bank, fund institution or enterprise with this code, or None."""
    model, field = _ORGANISATIONS[kind]
    return model.objects.filter(**{field: code}).first()


def organisation_label(kind: str) -> str:
    return str(_ORGANISATIONS[kind][0]._meta.verbose_name)


def sql_tables() -> dict[str, str]:
    """The registry's table names, for another app's hand-written SQL (bulk checks, columnar reads)."""
    return {"bank": Bank._meta.db_table, "enterprise": Enterprise._meta.db_table,
            "district": District._meta.db_table, "industry": Industry._meta.db_table}


def dishonest_on(uscc: str, day) -> bool:
    """Whether the enterprise was on the dishonest-debtor list (失信) on ``day``."""
    from django.db.models import Q

    return DishonestDebtorListing.objects.filter(
        Q(removed_on__isnull=True) | Q(removed_on__gt=day), uscc=uscc, listed_on__lte=day).exists()
