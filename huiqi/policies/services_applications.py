"""The writes of online applications (在线申报): an enterprise's submission (prefilled from the registry, its
declared facts kept apart, the criteria judged with them, the stacking rule, the attachments) and the owning
department's handling: accept, approve or reject, pay. Each checks permission and state, writes and audits.
``services`` re-exports them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, DomainError, InvalidFields, NotFound, PermissionDenied, ValidationFailed
from huiqi.core.i18n import Joined, Message
from huiqi.core.permissions import require
from huiqi.core.workdays import Calendar

from . import rules, selectors
from .models import APPLICATION_TRANSITIONS, Application, ApplicationAttachment, ItemVersion, PolicyItem
from .selectors_applications import APPLIABLE

STATEMENT_MAX = 2000
_NEED, _NOT = _("需要：%(text)s"), _("不得：%(text)s")


class Refused(DomainError):
    """An application refused for one of the spec's reasons (``criteria_not_met``, ``criteria_unknown``,
    ``excluded_by_stacking_rule``): the code is the reason; the API's body adds the leaves concerned (or the
    other item)."""

    status = 409

    def __init__(self, reason: str, message, *, leaves=(), other: str | None = None, **params):
        super().__init__(reason, message, **({"other": other} if other else {}), **params)
        self.leaves = list(leaves)
        self.other = other

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["reason"] = self.code
        if self.leaves:
            body["leaves"] = self.leaves
        if self.other:
            body["other_item"] = self.other
        return body


def judge(version: ItemVersion, facts: Mapping) -> rules.Explanation:
    """The criteria judged on the facts; a refusal listing the leaves when not met (those that make it so) or
    still unknown (those missing a fact)."""
    explained = rules.explain(version.criteria, facts)
    if explained.outcome == rules.NOT_MET:
        why = rules.why_not(version.criteria, facts)
        raise Refused("criteria_not_met", _("不符合申报条件：%(reasons)s"),
                      leaves=[{**_leaf_json(leaf, facts), "negated": negated} for leaf, negated in why],
                      reasons=Joined(Message(_NOT if negated else _NEED, text=selectors.describe(leaf))
                                     for leaf, negated in why))
    if explained.outcome == rules.UNKNOWN:
        unknown = [leaf for leaf in rules.leaves_of(version.criteria) if rules.leaf_result(leaf, facts) == rules.UNKNOWN]
        raise Refused("criteria_unknown", _("缺少判断所需的信息，请补充：%(missing)s"),
                      leaves=[_leaf_json(leaf, facts) for leaf in unknown],
                      missing=Joined(Message(_("%(field)s（条件：%(text)s）"), field=rules.FIELDS[leaf["field"]].label,
                                             text=selectors.describe(leaf)) for leaf in unknown))
    return explained


def _leaf_json(leaf: dict, facts: Mapping) -> dict:
    return {"id": leaf.get("id"), "field": leaf["field"], "op": leaf["op"], "value": leaf["value"],
            "actual": rules.json_value(facts.get(leaf["field"])), "result": rules.leaf_result(leaf, facts)}


def _stacking(application_item: PolicyItem, version: ItemVersion, window: dt.date | None, enterprise_id: int, *,
              excluding: int | None = None) -> None:
    held = rules.stacking_conflict(application_item.code, window, version.exclusion_group, version.repeatable,
                                   selectors.holdings(enterprise_id, excluding=excluding))
    if held is None:
        return
    if held.item == application_item.code:
        raise Refused("excluded_by_stacking_rule",
                      _("已享受过事项 %(other)s（申报 %(number)s），同一申报期内不得重复享受"),
                      other=held.item, number=held.number)
    raise Refused("excluded_by_stacking_rule",
                  _("已享受事项 %(other)s（申报 %(number)s），与本事项同属不得重复享受组“%(group)s”，同一时间只能享受其一"),
                  other=held.item, number=held.number, group=held.group)


def _lock_enterprise(enterprise_id: int) -> None:
    """Serialise the stacking checks of one enterprise (two submissions or approvals at once)."""
    from huiqi.registry import selectors as registry

    list(registry.enterprises().select_for_update().filter(pk=enterprise_id).values_list("pk"))


def _check_files(files) -> list:
    from huiqi.requests import services as requests_services

    requests_services.check_attachments(files)
    return list(files or [])


def _store_files(actor, application: Application, files) -> None:
    """Store the files and their rows, the last step of the submission; a failure part-way removes the files
    already written (their rows roll back). Each is stored under a name of our own, the sender's kept for
    display and download."""
    stored = []
    try:
        for f in files:
            name = rules.attachment_name(getattr(f, "name", "file"))
            kind = rules.attachment_kind(name)
            att = ApplicationAttachment(application=application, name=name, size=f.size, kind=kind,
                                        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None)
            f.seek(0)
            att.file.save(f"{uuid.uuid4().hex}.{kind or 'bin'}", f, save=False)
            stored.append(att.file.name)
            att.save()
            audit.record(actor, "policies.attachment", att, note=f"{application.number} {name}",
                         after={"application": application.pk, "name": name, "file": att.file.name, "size": att.size})
    except BaseException:
        storage = ApplicationAttachment._meta.get_field("file").storage
        for name in stored:
            storage.delete(name)
        raise


def submit_application(actor, *, enterprise, code: str, declared: Mapping | None = None, statement: str = "",
                       contact_name: str = "", contact_phone: str = "", attachments=(),
                       day: dt.date | None = None) -> Application:
    """An enterprise applies for item ``code``. Refused whole, every bad field named: declared facts must be
    ones the criteria read and the registry lacks (never replacing it), of their type; attachments pass the
    platform's checks. Then refused with its reason: the item not taking applications (not published, an
    ``auto`` item, outside its window), ``criteria_not_met`` / ``criteria_unknown`` (the registry's facts, the
    declared ones filling the gaps), an application of it still with the department, or
    ``excluded_by_stacking_rule``. Routed to the item's department with its SLA in working days."""
    require(actor, "policies.apply")
    if not actor.enterprises.filter(pk=enterprise.pk).exists():
        raise PermissionDenied("policies.not_your_enterprise", _("您不能为该企业申报"))
    day = day or clock.today()
    version = selectors.published_version(code, day)
    if version is None:
        if not selectors.item_exists(code):
            raise NotFound("policies.no_item", _("没有编码为 %(item)s 的政策事项"), item=code)
        raise Conflict("policies.item_closed", _("事项 %(item)s 未发布或已失效，不接受申报"), item=code)
    if version.mode not in APPLIABLE:
        raise Conflict("policies.no_application", _("事项 %(item)s 为免申即享，无需申报"), item=code)
    if version.item.department_id is None:
        raise Conflict("policies.no_department", _("事项 %(item)s 未指定主管部门，暂不接受在线申报"), item=code)
    if not rules.is_open(day, version.opens, version.closes):
        raise Conflict("policies.item_closed", _("事项 %(item)s 的申报期为 %(opens)s 至 %(closes)s，%(day)s 不接受申报"),
                       item=code, opens=version.opens or "—", closes=version.closes or "—", day=day)
    registry_facts = selectors.enterprise_facts(enterprise.uscc, day)
    errors: list = []
    try:
        found = rules.parse_declared(declared or {}, version.criteria, registry_facts, selectors.vocabularies())
    except InvalidFields as exc:
        errors.extend(exc.errors)
        found = {}
    statement = (statement or "").strip()
    if len(statement) > STATEMENT_MAX:
        errors.append(ValidationFailed("policies.statement_length", _("申报说明不超过 %(n)s 字"), field="statement",
                                       n=STATEMENT_MAX))
    for name, value, limit in (("contact_name", contact_name, 50), ("contact_phone", contact_phone, 30)):
        if len((value or "").strip()) > limit:
            errors.append(ValidationFailed("policies.too_long", _("%(name)s 不超过 %(n)s 个字符"), field=name,
                                           name=Application._meta.get_field(name).verbose_name, n=limit))
    try:
        files = _check_files(attachments)
    except DomainError as exc:
        errors.extend(getattr(exc, "errors", None) or [exc])
        files = []
    if errors:
        raise InvalidFields(errors)
    facts = rules.with_declared(registry_facts, found)
    explained = judge(version, facts)
    item = version.item
    window = version.opens
    sla = selectors.params_on(day).application_sla_days
    with transaction.atomic():
        _lock_enterprise(enterprise.pk)
        pending = selectors.open_application(enterprise.pk, item.pk)
        if pending is not None:
            raise Conflict("policies.application_pending", _("该企业已申报事项 %(item)s（%(number)s），正在办理中"),
                           item=code, number=pending.number)
        _stacking(item, version, window, enterprise.pk)
        used = rules.fields_used(version.criteria)
        app = Application.objects.create(
            number=f"PENDING-{uuid.uuid4().hex}", item=item, version=version, enterprise=enterprise,
            department=item.department, registry={n: rules.json_value(registry_facts.get(n)) for n in used},
            declared={n: rules.json_value(v) for n, v in found.items()}, outcome=explained.as_json(),
            statement=statement, contact_name=(contact_name or "").strip(), contact_phone=(contact_phone or "").strip(),
            window_opens=version.opens, window_closes=version.closes, submitted_on=day,
            due=Calendar.load().add_working_days(day, sla), sla_days=sla, applicant=actor)
        app.number = f"ZCSB-{day:%Y%m%d}-{app.pk:06d}"
        app.save(update_fields=["number"])
        audit.record(actor, "policies.apply", app)
        _store_files(actor, app, files)
    return app


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().select_related("item", "version").get(pk=application.pk)


def move_application(actor, application: Application, action: str, *, note: str = "", amount_fen: int | None = None,
                     day: dt.date | None = None) -> Application:
    """The owning department moves an application: ``accept`` (submitted → accepted), ``approve`` (accepted →
    approved, with the amount; the stacking rule checked again), ``reject`` (accepted → rejected, with the
    reason), ``pay`` (approved → paid, the amount paid, at most the approved one). Any other move is refused
    with the state it is in; each change is audited with before and after."""
    if action not in APPLICATION_TRANSITIONS:
        raise ValidationFailed("policies.action", _("未知的操作 %(action)s"), field="action", action=action)
    require(actor, "policies.handle_application", application)
    day = day or clock.today()
    errors: list = []
    if action in ("approve", "pay"):
        if amount_fen is None:
            errors.append(ValidationFailed("policies.amount_required", _("金额必须填写"), field="amount"))
        elif isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
            errors.append(ValidationFailed("policies.amount", _("金额必须是不小于 0 的金额"), field="amount"))
    if action == "reject" and not (note or "").strip():
        errors.append(ValidationFailed("policies.reason_required", _("未批准须说明原因"), field="note"))
    if errors:
        raise InvalidFields(errors)
    starts, to = APPLICATION_TRANSITIONS[action]
    with transaction.atomic():
        if action == "approve":
            _lock_enterprise(application.enterprise_id)
        locked = _locked(application)
        if locked.state not in starts:
            raise Conflict("policies.illegal_transition", _("申报 %(number)s 当前状态为“%(state)s”，不能%(action)s"),
                           field="state", number=locked.number, state=locked.get_state_display(),
                           action=ACTION_LABELS[action])
        before = audit.snapshot(locked)
        if action == "accept":
            locked.accepted_on = day
        elif action == "approve":
            _stacking(locked.item, locked.version, locked.window_opens, locked.enterprise_id, excluding=locked.pk)
            locked.approved_fen, locked.decided_on = amount_fen, day
        elif action == "reject":
            locked.rejection_reason, locked.decided_on = note.strip()[:500], day
        elif action == "pay":
            if amount_fen > locked.approved_fen:
                raise ValidationFailed("policies.paid_over_approved", _("兑付金额不能超过批准金额"), field="amount")
            locked.paid_fen, locked.paid_on = amount_fen, day
        locked.state = to
        locked.handler = actor
        locked.save()
        audit.record(actor, f"policies.application_{action}", locked, before=before, note=(note or "").strip())
    application.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


ACTION_LABELS = {"accept": _("受理"), "approve": _("批准"), "reject": _("不予批准"), "pay": _("兑付")}
