"""Enterprises with given facts, stored the way the platform holds them: a registry row, the facts from other
sources in the hub's own table, and a producer's listing in the supplies directory."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from huiqi.policies.models import EnterpriseFacts
from huiqi.registry.models import Enterprise, Industry
from huiqi.supplies.models import Producer


def industry(code: str) -> str:
    Industry.objects.get_or_create(code=code, defaults={"name": code, "level": "group", "section": code[0]})
    return code


def _fen(wan):
    return None if wan is None else int(Decimal(wan) * 1_000_000)


def enterprise(uscc: str, facts: dict, name: str | None = None) -> Enterprise:
    """A registry enterprise with ``facts`` as ``rules`` reads them; a missing industry or district (which
    the registry always holds) falls back to a real one."""
    ent = Enterprise.objects.create(
        uscc=uscc, name=name or f"企业{uscc[-4:]}", kind=facts["kind"],
        size_class=facts.get("size_class") or "unknown", district_id=facts.get("district") or "440303",
        industry_id=industry(facts.get("industry") or "C13"), employees=facts.get("employees"),
        revenue_fen=_fen(facts.get("revenue")), assets_fen=_fen(facts.get("assets")),
        is_key_enterprise=bool(facts.get("key_enterprise")))
    EnterpriseFacts.objects.create(
        enterprise=ent, established_on=facts.get("established_on"),
        credit_blacklisted=facts.get("credit_blacklisted"), fund_approved=bool(facts.get("fund_approved")))
    if facts.get("supplies_producer"):  # listed in the supplies directory long before any day a test asks
        Producer.objects.create(enterprise=ent, uscc=ent.uscc, active_from=dt.date(2000, 1, 1))
    return ent
