"""Every write of the producers directory, one function per action of the bureau (市工信局), each checking
permission and input (every broken rule at once, nothing saved then) and leaving an audit record of before
and after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit
from huiqi.core.errors import Conflict, DomainError, InvalidFields, ValidationFailed
from huiqi.core.identifiers import validate_uscc
from huiqi.core.permissions import require
from huiqi.registry import selectors as registry

from . import rules
from .models import Producer, ProducerProduct, Product, Suspension


@dataclass(frozen=True)
class ProductLine:
    """A product a producer makes: its catalogue code, capacity per day in the product's unit, and the days
    it reports from (default: the day it is listed) and to (none while it goes on)."""
    code: str
    capacity_per_day: int
    reported_from: dt.date | None = None
    reported_to: dt.date | None = None


def _raise(errors: list[DomainError]) -> None:
    if errors:
        raise InvalidFields(errors)


def _check_contact(phone: str) -> list[ValidationFailed]:
    allowed = set("0123456789-+() ")
    if phone and (len(phone) > 30 or not set(phone) <= allowed):
        return [rules.bad("contact_phone", "phone_invalid", _("联系电话 %(given)s 只能包含数字、空格和 +-()，最多 30 位"),
                          phone, given=phone)]
    return []


def _check_lines(lines, active_from) -> tuple[list[DomainError], dict[str, Product]]:
    """Every refusal of the product lines, each carrying its line's number (``params["line"]``, from 1) so a
    form with several lines shows it beside the right one."""
    errors: list[DomainError] = []
    codes = [line.code.strip() for line in lines]
    known = {p.code: p for p in Product.objects.filter(code__in=codes, active=True)}
    seen = set()
    for number, (line, code) in enumerate(zip(lines, codes), start=1):
        found: list[DomainError] = []
        if code not in known:
            found.append(rules.bad("product", "unknown_product", _("产品代码 %(given)s 不在防疫物资目录中"), code,
                                   given=code))
        elif code in seen:
            found.append(rules.bad("product", "product_repeated", _("产品 %(given)s 重复填写"), code, given=code))
        seen.add(code)
        found += rules.check_capacity(line.capacity_per_day)
        found += rules.check_period("reported_from", line.reported_from or active_from, "reported_to",
                                    line.reported_to)
        for error in found:
            error.params["line"] = number
        errors += found
    return errors, known


def list_producer(actor, uscc: str, active_from: dt.date, *, active_to: dt.date | None = None,
                  converted: bool = False, contact_name: str = "", contact_phone: str = "",
                  products: list[ProductLine] | tuple = ()) -> Producer:
    """List an enterprise of the registry in the directory from ``active_from`` (with what it makes).
    Refused whole on bad input, and with ``already_listed`` when it is in the directory already (its entry
    is then edited, not listed twice)."""
    require(actor, "supplies.manage_directory", allow_system=True)
    errors: list[DomainError] = []
    try:
        uscc = validate_uscc(uscc)
    except ValidationFailed as exc:
        errors.append(exc)
        uscc = None
    enterprise = registry.enterprises().filter(uscc=uscc).first() if uscc else None
    if uscc and enterprise is None:
        errors.append(rules.bad("uscc", "not_in_registry", _("统一社会信用代码 %(given)s 不在企业名录中"), uscc,
                                given=uscc))
    errors += rules.check_period("active_from", active_from, "active_to", active_to)
    errors += _check_contact(contact_phone.strip())
    line_errors, known = _check_lines(list(products), active_from)
    errors += line_errors
    _raise(errors)
    with transaction.atomic():
        if Producer.objects.filter(uscc=uscc).exists():
            raise Conflict("supplies.already_listed", _("企业 %(given)s 已在生产企业目录中，请修改其目录信息"),
                           field="uscc", value=uscc, given=uscc)
        producer = Producer.objects.create(enterprise=enterprise, uscc=uscc, active_from=active_from,
                                           active_to=active_to, converted=bool(converted),
                                           contact_name=contact_name.strip()[:50],
                                           contact_phone=contact_phone.strip())
        audit.record(actor, "supplies.list", producer)
        for line in products:
            _store_line(actor, producer, known[line.code.strip()], line)
    return producer


def _store_line(actor, producer: Producer, product: Product, line: ProductLine) -> ProducerProduct:
    row = ProducerProduct.objects.filter(producer=producer, product=product).first()
    before = audit.snapshot(row) if row else None
    row = row or ProducerProduct(producer=producer, product=product)
    row.capacity_per_day = line.capacity_per_day
    row.reported_from = line.reported_from or producer.active_from
    row.reported_to = line.reported_to
    row.save()
    if before is None:
        audit.record(actor, "supplies.product", row)
    else:
        audit.record_changes(actor, row, before)
    return row


def set_product(actor, producer: Producer, line: ProductLine) -> ProducerProduct:
    """Add a product to what a producer makes, or change its capacity or reporting days."""
    require(actor, "supplies.manage_directory", producer, allow_system=True)
    errors, known = _check_lines([line], producer.active_from)
    _raise(errors)
    with transaction.atomic():
        return _store_line(actor, _locked(producer), known[line.code.strip()], line)


def _locked(producer: Producer) -> Producer:
    return Producer.objects.select_for_update().get(pk=producer.pk)


def update_producer(actor, producer: Producer, *, active_from: dt.date, active_to: dt.date | None,
                    converted: bool, contact_name: str, contact_phone: str, removal_reason: str = "") -> Producer:
    """Change a producer's listing period (a removal is a last listed day, with a reason), its converted-
    production flag or its contacts. Its suspensions must stay inside the listing."""
    require(actor, "supplies.manage_directory", producer, allow_system=True)
    errors: list[DomainError] = rules.check_period("active_from", active_from, "active_to", active_to)
    errors += _check_contact(contact_phone.strip())
    if not errors and active_to is not None and not removal_reason.strip():
        errors.append(rules.bad("reason", "reason_required", _("填写有效期至（移出目录）时须说明原因"), ""))
    _raise(errors)
    with transaction.atomic():
        producer = _locked(producer)
        for s in producer.suspensions.all():
            if s.start < active_from or (active_to is not None and s.start > active_to):
                raise rules.bad("active_from" if s.start < active_from else "active_to", "suspension_outside_listing",
                                _("%(start)s 起的暂停将落在列入目录期间（%(first)s 至 %(last)s）之外"),
                                active_from, start=s.start, first=active_from, last=active_to or "—")
        before = audit.snapshot(producer)
        producer.active_from, producer.active_to = active_from, active_to
        producer.removal_reason = removal_reason.strip()[:300] if active_to is not None else ""
        producer.converted = bool(converted)
        producer.contact_name, producer.contact_phone = contact_name.strip()[:50], contact_phone.strip()
        producer.updated_at = timezone.now()
        producer.save()
        audit.record_changes(actor, producer, before)
    return producer


def suspend(actor, producer: Producer, start: dt.date, reason: str) -> Suspension:
    """Suspend a listed producer from ``start`` (it is not an active producer from that day until it is
    resumed), with a reason."""
    require(actor, "supplies.manage_directory", producer, allow_system=True)
    with transaction.atomic():
        producer = _locked(producer)
        errors = rules.check_suspension(producer.active_from, producer.active_to,
                                        [(s.start, s.end) for s in producer.suspensions.all()], start)
        if not reason.strip():
            errors.append(rules.bad("reason", "reason_required", _("暂停须说明原因"), ""))
        _raise(errors)
        suspension = Suspension.objects.create(producer=producer, start=start, reason=reason.strip()[:300])
        audit.record(actor, "supplies.suspend", suspension)
    return suspension


def resume(actor, producer: Producer, resume_on: dt.date) -> Suspension:
    """End a producer's open suspension: it is active again from ``resume_on``."""
    require(actor, "supplies.manage_directory", producer, allow_system=True)
    with transaction.atomic():
        producer = _locked(producer)
        suspension = producer.suspensions.filter(end__isnull=True).first()
        if suspension is None:
            raise Conflict("supplies.not_suspended", _("该企业没有正在暂停的记录"), field="resume_on")
        errors = rules.check_day("resume_on", resume_on)
        if not errors and resume_on <= suspension.start:
            errors.append(rules.bad("resume_on", "resume_before_suspension",
                                    _("恢复日期 %(given)s 须晚于暂停日期 %(start)s"), resume_on, given=resume_on,
                                    start=suspension.start))
        _raise(errors)
        before = audit.snapshot(suspension)
        suspension.end = resume_on - dt.timedelta(days=1)
        suspension.save(update_fields=["end"])
        audit.record(actor, "supplies.resume", suspension, before=before)
    return suspension


def list_producer_until(actor, uscc: str, active_from: dt.date, *, active_to: dt.date | None = None,
                        removal_reason: str = "", converted: bool = False, contact_name: str = "",
                        contact_phone: str = "", products: list[ProductLine] | tuple = ()) -> Producer:
    """``list_producer``, and when the listing already has its last day (or a reason is given), that day
    with its reason through ``update_producer``: the page's and the file's new listing, refused whole."""
    with transaction.atomic():
        producer = list_producer(actor, uscc, active_from, active_to=active_to, converted=converted,
                                 contact_name=contact_name, contact_phone=contact_phone, products=products)
        if active_to is not None or removal_reason.strip():
            producer = update_producer(actor, producer, active_from=active_from, active_to=active_to,
                                       converted=converted, contact_name=contact_name, contact_phone=contact_phone,
                                       removal_reason=removal_reason)
    return producer
