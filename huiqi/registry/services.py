"""Registry writes: one function per action, transactional, audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock, params
from huiqi.core.errors import ValidationFailed
from huiqi.core.i18n import stored
from huiqi.core.identifiers import uscc_entity_kind, validate_resident_id, validate_uscc
from huiqi.core.money import fen_to_wan, wan_to_fen

from . import rules
from .models import Agency, Bank, BusinessOwner, DishonestDebtorListing, District, Enterprise, Industry, RegistryImport

# Sent inside a registry write that moved enterprises to another district or industry (a registry file), with
# ``usccs``: the codes of the enterprises moved. A program that keeps its own figures by district or industry
# brings them up to date in the same transaction (the fund's funnel).
enterprises_regrouped = Signal()

# Sent inside a registry write that changed an enterprise's ownership or size class (the ownership file, the
# registry extract, a change of figures, the back office), once per write, with ``usccs``: the codes of the
# enterprises whose fact changed, and ``actor``: who made the write. A program whose checks wait for such a
# fact re-runs them in the same transaction (the fund's pre-check).
enterprise_facts_changed = Signal()

SIZE_STANDARD_KEY = "registry.size_standard"


def size_standard(year: int | None):
    """The size standard in force for figures of ``year`` (read at the end of that year)."""
    on = dt.date(year, 12, 31) if year else clock.today()
    return params.value(SIZE_STANDARD_KEY, on=on, default=rules.DEFAULT_SIZE_STANDARD)


def classify(industry: Industry, employees, revenue_fen, assets_fen, year, standard=None,
             explain: bool = True) -> rules.SizeResult:
    """Size class of an enterprise from its figures (money in fen), by the standard of ``year``."""
    group = industry.size_group or rules.industry_group(industry.code)
    return rules.classify_size(
        group, employees, fen_to_wan(revenue_fen), fen_to_wan(assets_fen),
        standard if standard is not None else size_standard(year), explain=explain,
    )


def _apply_size(enterprise: Enterprise, standard=None) -> None:
    result = classify(enterprise.industry, enterprise.employees, enterprise.revenue_fen,
                      enterprise.assets_fen, enterprise.figures_year, standard)
    enterprise.size_class = result.size_class
    enterprise.size_missing = ",".join(result.missing)
    enterprise.size_year = enterprise.figures_year


def announce_facts_changed(actor, usccs) -> None:
    """Tell the programs that these enterprises' ownership or size class changed
    (``enterprise_facts_changed``); nothing is sent for none. Called by the write, inside its transaction."""
    usccs = sorted(set(usccs))
    if usccs:
        enterprise_facts_changed.send(sender=Enterprise, usccs=usccs, actor=actor)


def _check_kind(uscc: str, kind: str, field: str = "kind") -> None:
    expected = uscc_entity_kind(uscc)
    if kind not in Enterprise.Kind.values:
        raise ValidationFailed("registry.kind", _("主体类型 %(kind)s 无效，应为企业（enterprise）或个体工商户（individual_business）"),
                               field=field, kind=kind)
    if expected != kind:
        raise ValidationFailed(
            "registry.kind_mismatch", _("主体类型 %(kind)s 与统一社会信用代码前两位 %(uscc_part)s 不符（企业为 91，个体工商户为 92）"),
            field=field, kind=kind, uscc_part=uscc[:2],
        )


def _lookup(model, code, field):
    try:
        return model.objects.get(pk=code)
    except model.DoesNotExist:
        raise ValidationFailed(f"registry.{field}_unknown", _("未知的%(what)s代码 %(code_text)s"), field=field,
                               value=code, what=model._meta.verbose_name, code_text=code) from None


def _figure(value, field, money: bool):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except Exception:  # noqa: BLE001 - any non-number is the same user error
        raise ValidationFailed(f"registry.{field}_invalid", _("%(field_text)s 必须是数字"), field=field,
                               value=value, field_text=field) from None
    if number < 0:
        raise ValidationFailed(f"registry.{field}_negative", _("%(field_text)s 不能为负数"), field=field,
                               value=value, field_text=field)
    if money:
        try:
            return wan_to_fen(number)
        except ValueError:
            raise ValidationFailed(f"registry.{field}_precision", _("%(field_text)s 最多精确到分（万元后六位小数）"),
                                   field=field, field_text=field) from None
    if number != number.to_integral_value():
        raise ValidationFailed(f"registry.{field}_integer", _("%(field_text)s 必须是整数"), field=field,
                               value=value, field_text=field)
    return int(number)


@transaction.atomic
def register_enterprise(actor, *, uscc: str, name: str, kind: str | None = None, district: str,
                        industry: str, employees=None, revenue_wan=None, assets_wan=None,
                        figures_year: int | None = None, is_key_enterprise: bool = False) -> Enterprise:
    """Create an enterprise from validated input and compute its size class."""
    uscc = validate_uscc(uscc)
    kind = kind or uscc_entity_kind(uscc)
    _check_kind(uscc, kind)
    if not (name or "").strip():
        raise ValidationFailed("registry.name_required", _("企业名称不能为空"), field="name")
    if Enterprise.objects.filter(uscc=uscc).exists():
        raise ValidationFailed("registry.uscc_exists", _("统一社会信用代码 %(uscc)s 已在名录中"), field="uscc",
                               value=uscc, uscc=uscc)
    e = Enterprise(
        uscc=uscc, name=name.strip(), kind=kind,
        district=_lookup(District, district, "district"),
        industry=_industry(industry),
        employees=_figure(employees, "employees", money=False),
        revenue_fen=_figure(revenue_wan, "revenue", money=True),
        assets_fen=_figure(assets_wan, "assets", money=True),
        figures_year=figures_year, is_key_enterprise=is_key_enterprise,
    )
    _apply_size(e)
    e.save()
    audit.record(actor, "create", e)
    return e


def _industry(code: str) -> Industry:
    code = (code or "").strip().upper()
    rules.industry_group(code)  # raises a clear error for bare G59/K70 and unknown codes
    industry = Industry.objects.filter(pk=code).first()
    if industry is None or industry.level == "section":
        raise ValidationFailed("registry.industry_unknown", _("未知的行业代码 %(code_text)s"), field="industry",
                               value=code, code_text=code)
    return industry


@transaction.atomic
def update_figures(actor, enterprise: Enterprise, *, employees=None, revenue_wan=None, assets_wan=None,
                   figures_year: int | None = None, note: str = "") -> Enterprise:
    """Replace an enterprise's figures and recompute its size class, audited before and after."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = audit.snapshot(enterprise)
    size_before = enterprise.size_class
    enterprise.employees = _figure(employees, "employees", money=False)
    enterprise.revenue_fen = _figure(revenue_wan, "revenue", money=True)
    enterprise.assets_fen = _figure(assets_wan, "assets", money=True)
    enterprise.figures_year = figures_year
    _apply_size(enterprise)
    enterprise.updated_at = timezone.now()
    enterprise.save()
    audit.record_changes(actor, enterprise, before, note=note)
    if enterprise.size_class != size_before:
        announce_facts_changed(actor, [enterprise.uscc])
    return enterprise


@transaction.atomic
def register_owner(actor, *, resident_id: str, name: str, owns: list[str]) -> BusinessOwner:
    """Register a small-business owner linked to the enterprises (USCCs) they own."""
    resident_id = validate_resident_id(resident_id)
    enterprises = []
    for code in owns:
        code = validate_uscc(code, field="owner_of")
        e = Enterprise.objects.filter(uscc=code).first()
        if e is None:
            raise ValidationFailed("registry.owner_of_unknown", _("所属企业 %(code_text)s 不在名录中"),
                                   field="owner_of", code_text=code)
        enterprises.append(e)
    owner, created = BusinessOwner.objects.get_or_create(resident_id=resident_id, defaults={"name": name})
    before = None if created else audit.snapshot(owner)
    owner.enterprises.add(*enterprises)
    audit.record(actor, "create" if created else "update", owner, before=before,
                 after={**audit.snapshot(owner), "owns": [e.uscc for e in enterprises]})
    return owner


def store_banks(targets: list[dict], actor, record) -> tuple[int, int]:
    """The partner banks of a bank file (``lending``'s upload of kind banks), created or updated by code
    with the upload's audit; returns (created, updated)."""
    from huiqi.core import uploads

    existing = {(v.pop("code"),): v for v in Bank.objects.values("id", "code", "name", "signed_date",
                                                                  "onboarded_date")}
    return uploads.upsert(Bank, targets, ("code",), ("name", "signed_date", "onboarded_date"), existing, actor,
                          record)


def ensure_agency(code: str, name: str, name_en: str) -> Agency:
    """The department (agency) with this code, created with these names when missing (reference data
    that a program needs, such as the 12345 hotline); an existing one is left as it is."""
    agency, _created = Agency.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
    return agency


def start_registry_import(actor, upload, kind: str = RegistryImport.Kind.REGISTRY) -> RegistryImport:
    """Store an uploaded registry file (the extract, ownership or the dishonest-debtor list) and process it:
    small files now, large ones as a background job."""
    from django.conf import settings

    from huiqi.core import jobs, uploads

    from . import imports

    if not actor.has_perm("registry.import"):
        from huiqi.core.errors import PermissionDenied

        raise PermissionDenied("registry.import", _("无权导入企业名录"))
    if kind not in imports.IMPORTERS:
        raise ValidationFailed("registry.import_kind", _("未知的文件类型 %(kind)s"), field="kind", value=kind, kind=kind)
    record = imports.save_upload(upload, actor, kind)
    audit.record(actor, "upload", record, note=stored(_("名录文件上传")))
    if uploads.runs_inline(record, settings.HUIQI_INLINE_IMPORT_BYTES):
        return imports.process(record, actor)
    job = jobs.enqueue("registry.import", {"import_id": record.pk}, user=actor,
                       # The kind's label as a lazy msgid (get_kind_display() would fix today's language).
                       title=stored(_("%(kind)s导入：%(file)s"), kind=RegistryImport.Kind(record.kind).label,
                                    file=record.file_name))
    record.job = job
    record.save(update_fields=["job"])
    return record


def import_registry_file(actor, path, progress=None, kind: str = RegistryImport.Kind.REGISTRY) -> RegistryImport:
    """Headless import (``huiqi import registry FILE``, ``registry-ownership``, ``registry-dishonest``): the
    same path as an upload, run in this process."""
    from . import imports

    record = imports.save_path(path, actor, kind)
    return imports.process(record, actor, progress=progress)


def read_error_rows(record, limit: int = 500) -> list[dict]:
    from . import imports

    return imports.read_errors(record, limit)


def error_report_path(record, fmt: str):
    return f"{record.error_report}.{fmt}"


def write_registry_template(path, lang: str, kind: str = RegistryImport.Kind.REGISTRY):
    from huiqi.core.tabular import write_template

    from . import imports

    return write_template(imports.SCHEMAS[kind](), path, lang)


EXPORT_COLUMNS = [
    ("uscc", "统一社会信用代码"), ("name", "企业名称"), ("kind", "主体类型"), ("district", "所属区"),
    ("industry", "行业代码"), ("employees", "从业人员（人）"), ("revenue", "营业收入（万元）"),
    ("assets", "资产总额（万元）"), ("figures_year", "数据年度"), ("size_class", "企业规模"),
    ("size_missing", "缺少的数据"),
]


def export_registry(qs, path) -> int:
    """Write enterprises to ``.csv`` or ``.xlsx`` with the import's Chinese headers (re-importable)."""
    from huiqi.core.tabular import write_rows

    rows = (
        (e["uscc"], e["name"], e["kind"], e["district_id"], e["industry_id"], e["employees"],
         fen_to_wan(e["revenue_fen"]), fen_to_wan(e["assets_fen"]), e["figures_year"], e["size_class"],
         e["size_missing"])
        for e in qs.order_by("uscc").values(
            "uscc", "name", "kind", "district_id", "industry_id", "employees", "revenue_fen", "assets_fen",
            "figures_year", "size_class", "size_missing").iterator(chunk_size=5000)
    )
    return write_rows(path, [zh for _, zh in EXPORT_COLUMNS], rows)


def set_bank_dates(actor, bank: Bank, *, signed_date=None, onboarded_date=None) -> Bank:
    """A partner bank's pool dates, as its page records a step (the banks file sets them too), audited.
    The caller holds the bank's row (``select_for_update``) and has checked the step."""
    before = audit.snapshot(bank)
    if signed_date is not None:
        bank.signed_date = signed_date
    if onboarded_date is not None:
        bank.onboarded_date = onboarded_date
    bank.save(update_fields=["signed_date", "onboarded_date"])
    audit.record(actor, "update", bank, before=before)
    return bank


@transaction.atomic
def set_ownership(actor, enterprise: Enterprise, ownership: str) -> Enterprise:
    """Record whether the enterprise is private or state-controlled (民营 / 国有控股), audited; a change is
    announced (``enterprise_facts_changed``)."""
    if store_ownership(actor, enterprise, ownership):
        announce_facts_changed(actor, [enterprise.uscc])
    return enterprise


def store_ownership(actor, enterprise: Enterprise, ownership: str) -> bool:
    """``set_ownership`` without the announcement, for a file that announces all its changes at once;
    returns whether the ownership changed. The caller holds the transaction."""
    if ownership not in Enterprise.Ownership.values:
        raise ValidationFailed("registry.ownership", _("所有制性质 %(given)s 须为 private、state_controlled 或 unknown"),
                               field="ownership", value=ownership, given=ownership)
    before = audit.snapshot(enterprise)
    changed = enterprise.ownership != ownership
    enterprise.ownership = ownership
    enterprise.updated_at = timezone.now()
    enterprise.save(update_fields=["ownership", "updated_at"])
    audit.record_changes(actor, enterprise, before)
    return changed


@transaction.atomic
def list_dishonest(actor, uscc: str, listed_on: dt.date, removed_on: dt.date | None = None,
                   source: str = "") -> DishonestDebtorListing:
    """Record a period on the dishonest-debtor list (失信被执行人), audited."""
    uscc = validate_uscc(uscc)
    if removed_on is not None and removed_on < listed_on:
        raise ValidationFailed("registry.removed_before_listed", _("移出日期 %(removed)s 早于列入日期 %(listed)s"),
                               field="removed_on", value=removed_on, removed=removed_on, listed=listed_on)
    listing, _created = DishonestDebtorListing.objects.update_or_create(
        uscc=uscc, listed_on=listed_on, defaults={"removed_on": removed_on, "source": source})
    audit.record(actor, "create", listing)
    return listing
