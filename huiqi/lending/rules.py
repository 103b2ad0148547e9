"""What the finance programs judge alike about a loan's borrower, from the shared ledger and the registry.

Pure functions, no Django models and no database. The interest subsidy and the risk-compensation pool
both ask whether a borrower is a small or medium enterprise, an individual business, or the owner of one
(``shared/specs/interest-subsidy.md``, ``risk-compensation.md``); the answer and its reason codes live
here once.

The registry, not the bank, says what a registered borrower is: a loan reported as ``enterprise`` whose
borrower the registry lists as an individual business is judged as an individual business, and the other
way round. The bank's ``borrower_kind`` decides only whether the loan is a small-business owner's
(``business_owner``: judged through ``owner_of``) or a registered entity's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from huiqi.registry.rules import SIZE_CLASSES

BORROWER_KINDS = ("enterprise", "individual_business", "business_owner")
REGISTRY_KINDS = ("enterprise", "individual_business")

# The borrower's reasons, in the order they are checked.
BORROWER_REASONS = {
    "borrower_not_in_registry": _("借款人不在企业名录中"),
    "borrower_large": _("借款人为大型企业"),
    "borrower_size_unknown": _("借款人企业规模未知"),
    "owned_enterprise_not_in_registry": _("小微企业主所属企业不在企业名录中"),
    "owned_enterprise_not_small_or_micro": _("小微企业主所属企业不是小型或微型企业"),
    "owned_enterprise_size_unknown": _("小微企业主所属企业规模未知"),
}


@dataclass(frozen=True)
class RegistryEntry:
    """What the enterprise registry knows of one USCC."""

    kind: str  # enterprise | individual_business
    size_class: str  # large | medium | small | micro | unknown
    name: str = ""
    industry: str = ""

    def __post_init__(self):
        if self.kind not in REGISTRY_KINDS:
            raise ValueError(f"registry kind must be one of {REGISTRY_KINDS}, not {self.kind!r}")
        if self.size_class not in SIZE_CLASSES:
            raise ValueError(f"size class must be one of {SIZE_CLASSES}, not {self.size_class!r}")


def registry_entry(borrower_kind: str, borrower_id: str, owner_of: str | None,
                   registry: Mapping[str, RegistryEntry]) -> RegistryEntry | None:
    """The registry's entry that judges the borrower: the owned enterprise for an owner, else the borrower."""
    if borrower_kind == "business_owner":
        return registry.get(owner_of) if owner_of else None
    return registry.get(borrower_id)


def is_individual(borrower_kind: str, borrower_id: str, registry: Mapping[str, RegistryEntry]) -> bool:
    """An individual business or a small-business owner (as the registry, where it knows, says)."""
    if borrower_kind == "business_owner":
        return True
    entry = registry.get(borrower_id)
    if entry is None:
        return borrower_kind == "individual_business"
    return entry.kind == "individual_business"


def borrower_reason(borrower_kind: str, borrower_id: str, owner_of: str | None,
                    registry: Mapping[str, RegistryEntry]) -> str | None:
    """The first failing borrower reason (``BORROWER_REASONS``), or None when the borrower counts: a
    medium, small or micro enterprise or an individual business in the registry, or the owner of an
    individual business or small or micro enterprise in it."""
    if borrower_kind == "business_owner":
        owned = registry.get(owner_of) if owner_of else None
        if owned is None:
            return "owned_enterprise_not_in_registry"
        if owned.kind == "individual_business" or owned.size_class in ("small", "micro"):
            return None
        if owned.size_class == "unknown":
            return "owned_enterprise_size_unknown"
        return "owned_enterprise_not_small_or_micro"
    entry = registry.get(borrower_id)
    if entry is None:
        return "borrower_not_in_registry"
    if entry.kind == "individual_business":
        return None
    if entry.size_class == "large":
        return "borrower_large"
    if entry.size_class == "unknown":
        return "borrower_size_unknown"
    return None
