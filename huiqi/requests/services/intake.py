"""Filing a request: routing it to a department, checking and storing its attachments, telling the
department and the enterprise."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock
from huiqi.core.errors import NotFound, PermissionDenied, ValidationFailed
from huiqi.core.i18n import both_names, stored
from huiqi.core.workdays import Calendar
from huiqi.registry import selectors as registry_selectors

from .. import notifications, rules, selectors
from ..models import Attachment, Category, Channel, EnterpriseRequest, Status
from .common import deadline, fail, is_admin, record_event, signed_in, tell_enterprise, today_of


def route(category: Category, enterprise, title: str, description: str,
          rule_set: list[rules.Rule] | None = None) -> tuple[int, int | None, int | None]:
    """(department id, handler id or None, rule id or None): the first matching routing rule, else the
    category's default department."""
    subject = rules.Subject(category=category.code, district=enterprise.district_id, text=f"{title}\n{description}",
                            size_class=enterprise.size_class, industry_section=enterprise.industry.section,
                            key_enterprise=enterprise.is_key_enterprise)
    hit = rules.route(selectors.routing_rules() if rule_set is None else rule_set, subject)
    if hit is None:
        return category.default_agency_id, None, None
    return hit.agency, hit.handler, hit.id


def store_attachments(actor, req, files, p) -> list[Attachment]:
    files = list(files or [])
    if len(files) > p["attachment_max_files"]:
        raise ValidationFailed("request.attachment_count", _("附件最多 %(attachment_max_files)s 个"),
                               field="attachments", attachment_max_files=p["attachment_max_files"])
    checked = []
    for f in files:
        name = rules.safe_filename(getattr(f, "name", "file"))
        f.seek(0)
        head = f.read(16)
        f.seek(0)
        problem = rules.check_attachment(name, f.size, head, p)
        fail([problem] if problem else [])
        checked.append((name, f))
    stored = []
    for name, f in checked:
        a = Attachment(request=req, name=name, size=f.size, kind=rules.file_kind(name),
                       uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
        a.file.save(name, f, save=False)
        a.save()
        stored.append(a)
    return stored


def check_attachments(files, p=None) -> None:
    """Refuse a set of files before anything is stored (the form checks before it submits)."""
    p = p or selectors.current_params()
    files = list(files or [])
    if len(files) > p["attachment_max_files"]:
        raise ValidationFailed("request.attachment_count", _("附件最多 %(attachment_max_files)s 个"),
                               field="attachments", attachment_max_files=p["attachment_max_files"])
    for f in files:
        f.seek(0)
        head = f.read(16)
        f.seek(0)
        problem = rules.check_attachment(rules.safe_filename(f.name), f.size, head, p)
        fail([problem] if problem else [])


@transaction.atomic
def submit_request(actor, *, enterprise, category: Category, title: str, description: str,
                   channel: str = Channel.WEB, contact_name: str = "", contact_phone: str = "",
                   contact_email: str = "", attachments=(), address: str = "", lat=None, long=None,
                   at: dt.datetime | None = None) -> EnterpriseRequest:
    """File a request for ``enterprise``: by one of its users (web, API, Open311), or by a hotline
    operator on its behalf (channel "hotline"). Routes it, sets the deadline to accept, tells the
    department."""
    signed_in(actor)
    if channel not in Channel.values:
        raise ValidationFailed("request.channel", _("未知渠道 %(channel)s"), field="channel", channel=channel)
    hotline = actor.has_perm("requests.file_for_enterprise") and actor.role == Role.DEPARTMENT
    if channel == Channel.HOTLINE and not (hotline or is_admin(actor)):
        raise PermissionDenied("requests.hotline_only", _("只有 12345 热线坐席可以代企业登记来电"))
    if actor.role == Role.ENTERPRISE:
        if not actor.enterprises.filter(pk=enterprise.pk).exists():
            raise NotFound("requests.enterprise_not_found", _("未找到该企业"), field="enterprise")
    elif not (hotline or is_admin(actor)):
        raise PermissionDenied("requests.submit_forbidden", _("您不能提交企业诉求"))
    if hotline and channel != Channel.HOTLINE:
        channel = Channel.HOTLINE
    if not category.active:
        raise ValidationFailed("request.category_inactive", _("该类别已停用"), field="category")
    at = at or clock.now()
    p = selectors.current_params(today_of(at))
    title, description = rules.clean_text(title).strip(), rules.clean_text(description).strip()
    contact_name, contact_phone = rules.clean_text(contact_name), rules.clean_text(contact_phone)
    contact_email, address = rules.clean_text(contact_email), rules.clean_text(address)
    fail(rules.check_text(title, description, p))
    cal = Calendar.load()
    agency_id, handler_id, rule_id = route(category, enterprise, title, description)
    accept_by = deadline(cal, today_of(at), category.accept_days)
    req = EnterpriseRequest.objects.create(
        number=f"PENDING-{uuid.uuid4().hex}", enterprise=enterprise,
        district_id=enterprise.district_id, category=category, channel=channel, title=title,
        description=description, tokens=" ".join(rules.tokenize(f"{title} {description}")),
        contact_name=contact_name[:50], contact_phone=contact_phone[:30], contact_email=contact_email,
        address=address[:200], lat=lat, long=long, status=Status.SUBMITTED, agency_id=agency_id,
        handler_id=handler_id, routing_rule_id=rule_id, submitted_at=at, updated_at=at,
        accept_deadline=accept_by, due_date=accept_by, created_by=actor)
    req.number = f"SZQ-{today_of(at):%Y%m%d}-{req.pk:06d}"
    req.save(update_fields=["number"])
    store_attachments(actor, req, attachments, p)
    agency = registry_selectors.agencies().get(pk=agency_id)
    record_event(req, actor, "submit", "", Status.SUBMITTED, at=at,
           note=stored(_("经%(channel)s提交，分派至%(agency)s"), channel=Channel(channel).label,
                       agency=both_names(agency)),
           data={"channel": channel, "agency": agency.code, "rule": rule_id})
    audit.record(actor, "create", req, note=stored(_("企业诉求 %(number)s"), number=req.number))
    notifications.notify(selectors.handlers_of(req), stored(_("新诉求 %(number)s：%(title)s"), number=req.number,
                                                            title=title),
                         stored(_("%(enterprise)s 提交了诉求“%(title)s”，请在 %(date)s 前签收。"),
                                enterprise=enterprise.name, title=title, date=accept_by), request=req)
    tell_enterprise(req, stored(_("诉求 %(number)s 已受理登记"), number=req.number),
                    stored(_("您的诉求“%(title)s”已登记，编号 %(number)s，由%(agency)s办理。"), title=title,
                           number=req.number, agency=both_names(agency)), contact_sms=True)
    return req
