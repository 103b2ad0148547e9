"""Every write of the policy hub: drafting item versions and moving them through the workflow (maker-checker,
a published version never edited), policy documents, the headless load. Each checks permission and state,
writes, audits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, InvalidFields, NotFound, ValidationFailed
from huiqi.core.permissions import require

from . import rules, selectors
from .models import TRANSITIONS, ItemTestCase, ItemVersion, Mode, PolicyDocument, PolicyItem, Status, Tag

VERSION_FIELDS = ("title", "summary", "guide", "faq", "benefit", "mode", "opens", "closes", "criteria", "tags",
                  "exclusion_group", "repeatable")
LOAD_KEYS = {"code", "title", "mode", "status", "opens", "closes", "tags", "criteria"}
LOAD_OPTIONAL = {"summary", "guide", "faq", "benefit", "exclusion_group", "repeatable", "department", "document",
                 "test_cases"}


def _bad(field: str, code: str, message, **params) -> ValidationFailed:
    return ValidationFailed(f"policies.{code}", message, field=field, **params)


def _date(value, field: str, errors: list, *, required: bool) -> dt.date | None:
    if value is None or value == "":
        if required:
            errors.append(_bad(field, "required", _("%(name)s 必须填写"), name=field))
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value if isinstance(value, str) and len(value) == 10 else "")
    except ValueError:
        errors.append(_bad(field, "date", _("%(name)s 不是 YYYY-MM-DD 格式的日期：%(text)s"), name=field,
                           text=repr(value)))
        return None


def clean_version(data: Mapping, *, prefix: str = "") -> dict:
    """An item version's content checked whole: every bad field (and every bad leaf of the criteria, by its
    JSON path) named at once; the content as stored when all pass. ``prefix`` names the item in messages."""
    errors: list = []
    out: dict = {}
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append(_bad(f"{prefix}title", "required", _("%(name)s 必须填写"), name=f"{prefix}title"))
    else:
        out["title"] = title.strip()[:200]
    mode = data.get("mode", Mode.APPLICATION)
    if mode not in Mode.values:
        errors.append(_bad(f"{prefix}mode", "mode", _("%(name)s 必须是 %(allowed)s 之一"), name=f"{prefix}mode",
                           allowed=", ".join(Mode.values)))
    out["mode"] = mode
    out["opens"] = _date(data.get("opens"), f"{prefix}opens", errors, required=False)
    out["closes"] = _date(data.get("closes"), f"{prefix}closes", errors, required=False)
    if out["opens"] and out["closes"] and out["closes"] < out["opens"]:
        errors.append(_bad(f"{prefix}closes", "window", _("申报截止日 %(closes)s 早于开始日 %(opens)s"),
                           closes=out["closes"], opens=out["opens"]))
    try:
        out["criteria"] = rules.validate(data.get("criteria"), selectors.vocabularies())
    except InvalidFields as exc:
        for error in exc.errors:
            errors.append(ValidationFailed(error.code, _("%(prefix)s%(error)s"), field=f"{prefix}{error.field}",
                                           prefix=prefix, error=_Rendered(error)))
    out["tags"] = _clean_tags(data.get("tags") or {}, prefix, errors)
    faq = data.get("faq") or []
    if not isinstance(faq, list) or any(not isinstance(x, dict) or not x.get("q") or not x.get("a") for x in faq):
        errors.append(_bad(f"{prefix}faq", "faq", _("常见问题必须是问答的列表（每条有 q 和 a）")))
    out["faq"] = faq
    for name in ("summary", "guide", "benefit", "exclusion_group"):
        value = data.get(name) or ""
        if not isinstance(value, str):
            errors.append(_bad(f"{prefix}{name}", "text", _("%(name)s 必须是文本"), name=f"{prefix}{name}"))
        out[name] = value if isinstance(value, str) else ""
    out["repeatable"] = bool(data.get("repeatable", False))
    if errors:
        raise InvalidFields(errors)
    return out


class _Rendered:
    """A domain error shown inside another message, in the language the outer one is shown in."""

    def __init__(self, error):
        self.error = error

    def __str__(self):
        return self.error.message


def _clean_tags(tags, prefix: str, errors: list) -> dict:
    if not isinstance(tags, dict):
        errors.append(_bad(f"{prefix}tags", "tags", _("标签必须是 分类→标签列表 的对象")))
        return {}
    known: dict[str, set[str]] = {}
    for facet, code in Tag.objects.values_list("facet", "code"):
        known.setdefault(facet, set()).add(code)
    out = {}
    for facet, values in tags.items():
        if facet not in known:
            errors.append(_bad(f"{prefix}tags.{facet}", "facet", _("未知的标签分类 %(facet)s（可用：%(allowed)s）"),
                               facet=repr(facet), allowed=", ".join(sorted(known))))
            continue
        if not isinstance(values, list) or any(v not in known[facet] for v in values):
            errors.append(_bad(f"{prefix}tags.{facet}", "tag", _("%(facet)s 的标签必须取自词表（%(allowed)s）"),
                               facet=facet, allowed=", ".join(sorted(known[facet]))))
            continue
        out[facet] = list(dict.fromkeys(values))
    return out


def search_text(content: Mapping, document_text: str = "") -> str:
    """The item's words for search: jieba tokens of its title, summary, guide and document, space-bounded."""
    tokens = rules.search_tokens(" ".join((content.get("title", ""), content.get("summary", ""),
                                              content.get("guide", ""), document_text)))
    return f" {' '.join(dict.fromkeys(tokens))} "


# --- drafting and the workflow -------------------------------------------------------------------------


def _next_number(item: PolicyItem) -> int:
    return (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1


def save_draft(actor, code: str, data: Mapping, *, document: PolicyDocument | None = None,
               department=None) -> ItemVersion:
    """Save an item's draft: a new item, or a new draft version of an item (a published version is never
    edited), or the same draft again. Nothing is saved unless every field passes."""
    require(actor, "policies.edit")
    code = (code or "").strip()
    errors: list = []
    if not code or len(code) > 40:
        errors.append(_bad("code", "code", _("事项编码必须填写，不超过 40 个字符")))
    try:
        content = clean_version(data)
    except InvalidFields as exc:
        errors.extend(exc.errors)
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        item, created = PolicyItem.objects.get_or_create(code=code, defaults={"document": document,
                                                                              "department": department})
        latest = item.versions.order_by("-number").select_for_update().first()
        doc_text = item.document.full_text if item.document else ""
        if latest is not None and latest.status == Status.DRAFT:
            before = audit.snapshot(latest)
            for name, value in content.items():
                setattr(latest, name, value)
            latest.search_text = search_text(content, doc_text)
            latest.author = actor
            latest.save()
            audit.record(actor, "policies.draft", latest, before=before)
            return latest
        if latest is not None and latest.status == Status.REVIEW:
            raise Conflict("policies.in_review", _("事项 %(item)s 的第 %(n)s 版正在审核，退回后才能修改"),
                           item=code, n=latest.number)
        version = ItemVersion.objects.create(item=item, number=_next_number(item), status=Status.DRAFT,
                                             author=actor, search_text=search_text(content, doc_text), **content)
        audit.record(actor, "policies.draft", version)
        return version


def _move(actor, version: ItemVersion, action: str, note: str = "", **changes) -> ItemVersion:
    starts, to = TRANSITIONS[action]
    locked = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status not in starts:
        raise Conflict("policies.illegal_transition", _("该版本当前状态为「%(status)s」，不能执行此操作"), field="status",
                       status=locked.get_status_display())
    before = audit.snapshot(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.status = to
    locked.save()
    audit.record(actor, f"policies.{action}", locked, before=before, note=note)
    version.__dict__.update(locked.__dict__)
    return locked


def submit(actor, version: ItemVersion) -> ItemVersion:
    """Draft → review."""
    require(actor, "policies.edit")
    with transaction.atomic():
        return _move(actor, version, "submit")


def return_to_draft(actor, version: ItemVersion, note: str) -> ItemVersion:
    """Review → draft, with what to change."""
    require(actor, "policies.review")
    if not (note or "").strip():
        raise _bad("note", "note_required", _("退回须说明需要修改的内容"))
    with transaction.atomic():
        return _move(actor, version, "return", note=note.strip())


def publish(actor, version: ItemVersion, day: dt.date | None = None) -> ItemVersion:
    """Review → published by someone other than the author, in force from ``day`` (today); the version
    in force until then is superseded from that day."""
    require(actor, "policies.review")
    day = day or clock.today()
    if version.author_id is not None and version.author_id == getattr(actor, "pk", None):
        raise Conflict("policies.maker_checker", _("起草人不能审核发布自己起草的版本，须由另一位工作人员审核"))
    from . import push

    with transaction.atomic():
        previous = version.item.versions.filter(status=Status.PUBLISHED).exclude(pk=version.pk).order_by(
            "-number").first()
        _supersede(actor, version.item, day, keep=version.pk)
        published = _move(actor, version, "publish", reviewer=actor, in_force_from=day)
        push.record_trigger(published, previous)
        return published


def _supersede(actor, item: PolicyItem, day: dt.date, keep: int | None = None) -> None:
    for old in item.versions.filter(status=Status.PUBLISHED).exclude(pk=keep).select_for_update():
        start = old.in_force_from or day
        _move(actor, old, "supersede", in_force_to=max(day, start))


def withdraw(actor, version: ItemVersion, reason: str, day: dt.date | None = None) -> ItemVersion:
    """Published → withdrawn from ``day`` (today), with its reason."""
    require(actor, "policies.review")
    if not (reason or "").strip():
        raise _bad("reason", "reason_required", _("撤回须说明原因"))
    day = day or clock.today()
    with transaction.atomic():
        return _move(actor, version, "withdraw", note=reason.strip(), withdraw_reason=reason.strip()[:300],
                     in_force_to=max(day, version.in_force_from or day))


def expire_due(day: dt.date | None = None) -> int:
    """Mark expired every published version whose document's effective-to day has passed (a timer's sweep;
    the selectors already treat it as no longer in force)."""
    day = day or clock.today()
    count = 0
    with transaction.atomic():
        for version in (ItemVersion.objects.select_for_update()
                        .filter(status=Status.PUBLISHED, item__document__effective_to__lt=day)
                        .select_related("item__document")):
            _move(None, version, "expire", in_force_to=version.item.document.effective_to + dt.timedelta(days=1))
            count += 1
    return count


# --- documents ---------------------------------------------------------------------------------------


def register_document(actor, data: Mapping) -> PolicyDocument:
    """A policy document as a draft; 文号 unique per issuer; every bad field named at once."""
    require(actor, "policies.edit")
    errors: list = []
    values = {}
    for name in ("issuer", "number", "title"):
        value = (data.get(name) or "").strip()
        if not value:
            errors.append(_bad(name, "required", _("%(name)s 必须填写"), name=name))
        values[name] = value
    values["issued_on"] = _date(data.get("issued_on"), "issued_on", errors, required=True)
    values["effective_from"] = _date(data.get("effective_from"), "effective_from", errors, required=True)
    values["effective_to"] = _date(data.get("effective_to"), "effective_to", errors, required=False)
    if values["effective_from"] and values["effective_to"] and values["effective_to"] < values["effective_from"]:
        errors.append(_bad("effective_to", "effective_order", _("有效期至早于施行日期")))
    if values["issuer"] and values["number"] and PolicyDocument.objects.filter(
            issuer=values["issuer"], number=values["number"]).exists():
        errors.append(_bad("number", "number_taken", _("%(issuer)s 已有文号为 %(number)s 的文件"),
                           issuer=values["issuer"], number=values["number"]))
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        doc = PolicyDocument.objects.create(full_text=data.get("full_text") or "", source_url=data.get("source_url") or "",
                                            author=actor, **values)
        audit.record(actor, "policies.document", doc)
    return doc


def move_document(actor, document: PolicyDocument, action: str, note: str = "") -> PolicyDocument:
    """A document along the same workflow as item versions (``models.TRANSITIONS``); the reviewer who
    publishes it is not its author; a withdrawal needs a reason."""
    require(actor, "policies.review" if action in ("publish", "return", "withdraw") else "policies.edit")
    starts, to = TRANSITIONS[action]
    if action == "publish" and document.author_id is not None and document.author_id == getattr(actor, "pk", None):
        raise Conflict("policies.maker_checker", _("起草人不能审核发布自己起草的版本，须由另一位工作人员审核"))
    if action == "withdraw" and not note.strip():
        raise _bad("reason", "reason_required", _("撤回须说明原因"))
    with transaction.atomic():
        locked = PolicyDocument.objects.select_for_update().get(pk=document.pk)
        if locked.status not in starts:
            raise Conflict("policies.illegal_transition", _("该版本当前状态为「%(status)s」，不能执行此操作"),
                           field="status", status=locked.get_status_display())
        before = audit.snapshot(locked)
        locked.status = to
        if action == "publish":
            locked.reviewer = actor
        if action == "withdraw":
            locked.withdraw_reason = note.strip()[:300]
        locked.save()
        audit.record(actor, "policies.document_status", locked, before=before, note=note)
    document.__dict__.update(locked.__dict__)
    return locked


def set_test_cases(actor, item: PolicyItem, cases) -> list[ItemTestCase]:
    """Replace an item's test cases (name, facts, expected outcome); every bad case named, nothing saved."""
    require(actor, "policies.edit", allow_system=True)
    errors: list = []
    for i, case in enumerate(cases):
        where = f"test_cases[{i}]"
        if not isinstance(case, dict) or not str(case.get("name", "")).strip():
            errors.append(_bad(where, "case_name", _("第 %(n)s 个测试用例缺少名称"), n=i + 1))
            continue
        if case.get("expected") not in (rules.MET, rules.NOT_MET, rules.UNKNOWN):
            errors.append(_bad(f"{where}.expected", "case_expected", _("测试用例 %(name)s 的预期结果须为 met、not_met 或 unknown"),
                               name=case["name"]))
        try:
            rules.facts_from_json(case.get("facts") or {})
        except InvalidFields as exc:
            errors.extend(ValidationFailed(e.code, _("%(prefix)s%(error)s"), field=f"{where}.facts{e.field[1:]}",
                                           prefix=f"{case['name']}: ", error=_Rendered(e)) for e in exc.errors)
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        item.test_cases.all().delete()
        made = ItemTestCase.objects.bulk_create(
            ItemTestCase(item=item, name=str(c["name"])[:100], facts=c["facts"], expected=c["expected"]) for c in cases)
        audit.record(actor, "policies.test_cases", item, after={"test_cases": len(made)})
    return made


def run_test_cases(item: PolicyItem, version: ItemVersion | None = None) -> list[tuple[ItemTestCase, str]]:
    """(case, outcome) of each of the item's test cases against ``version``'s criteria (the newest)."""
    version = version or item.versions.order_by("-number").first()
    return [(case, rules.evaluate(version.criteria, rules.facts_from_json(case.facts)))
            for case in item.test_cases.all()]


# --- the headless load -------------------------------------------------------------------------------


def load_items(actor, items) -> list[ItemVersion]:
    """Store or replace policy items from the load file's array. A file with one bad item is refused whole,
    every bad item named by its code with the path and the rule; nothing is stored."""
    require(actor, "policies.edit", allow_system=True)
    if not isinstance(items, list):
        raise _bad("$", "load_array", _("文件必须是政策事项的 JSON 数组"))
    errors: list = []
    cleaned = []
    seen: set[str] = set()
    for i, raw in enumerate(items):
        code = raw.get("code") if isinstance(raw, dict) else None
        label = code if isinstance(code, str) and code.strip() else f"#{i + 1}"
        prefix = f"{label}: "
        if not isinstance(raw, dict):
            errors.append(_bad(f"#{i + 1}", "load_item", _("第 %(n)s 项不是对象"), n=i + 1))
            continue
        if not isinstance(code, str) or not code.strip() or len(code) > 40:
            errors.append(_bad(f"#{i + 1}.code", "code", _("第 %(n)s 项缺少事项编码（不超过 40 个字符）"), n=i + 1))
        elif code in seen:
            errors.append(_bad(f"{prefix}code", "code_twice", _("事项编码 %(item)s 在文件中出现了两次"), item=code))
        seen.add(code if isinstance(code, str) else "")
        unknown = sorted(set(raw) - LOAD_KEYS - LOAD_OPTIONAL)
        if unknown:
            errors.append(_bad(f"{prefix}keys", "load_keys", _("事项 %(item)s 有未知的键 %(keys)s"), item=label,
                               keys=", ".join(unknown)))
        status = raw.get("status", Status.DRAFT)
        if status not in (Status.DRAFT, Status.REVIEW, Status.PUBLISHED, Status.EXPIRED, Status.WITHDRAWN):
            errors.append(_bad(f"{prefix}status", "load_status", _("事项 %(item)s 的状态 %(status)s 不是 draft、review、"
                                                                    "published、expired 或 withdrawn"),
                               item=label, status=repr(status)))
        try:
            content = clean_version(raw, prefix=prefix)
        except InvalidFields as exc:
            errors.extend(exc.errors)
            continue
        if status == Status.PUBLISHED and content["opens"] is None:
            errors.append(_bad(f"{prefix}opens", "opens_required", _("已发布的事项须有申报开始日（opens）")))
        links = _links(raw, prefix, label, errors)
        cleaned.append((code, status, content, raw.get("test_cases") or [], links))
    if errors:
        raise InvalidFields(errors)
    stored = []
    today = clock.today()
    with transaction.atomic():
        for code, status, content, cases, links in cleaned:
            stored.append(_store_loaded(actor, code, status, content, today))
            item = stored[-1].item
            if links and any(getattr(item, k) != v for k, v in links.items()):
                for name, value in links.items():
                    setattr(item, name, value)
                item.save(update_fields=list(links))
            if cases:
                set_test_cases(actor, item, cases)
    return stored


def _links(raw: Mapping, prefix: str, label: str, errors: list) -> dict:
    """The item's document (by 文号) and owning department (by code), when the file names them."""
    from huiqi.registry import selectors as registry

    links = {}
    if raw.get("document"):
        doc = PolicyDocument.objects.filter(number=raw["document"]).first()
        if doc is None:
            errors.append(_bad(f"{prefix}document", "no_document", _("事项 %(item)s 的政策文件 %(number)s 不存在"),
                               item=label, number=raw["document"]))
        links["document"] = doc
    if raw.get("department"):
        agency = registry.organisation("agency", raw["department"])
        if agency is None:
            errors.append(_bad(f"{prefix}department", "no_department", _("事项 %(item)s 的主管部门 %(code_)s 不存在"),
                               item=label, code_=raw["department"]))
        links["department"] = agency
    return links


def _store_loaded(actor, code: str, status: str, content: dict, today: dt.date) -> ItemVersion:
    item, _created = PolicyItem.objects.get_or_create(code=code)
    latest = item.versions.order_by("-number").first()
    if latest is not None and latest.status == status and all(
            getattr(latest, name) == content[name] for name in VERSION_FIELDS):
        return latest
    start = content["opens"] if status in (Status.PUBLISHED, Status.EXPIRED, Status.WITHDRAWN) else None
    end = None
    if status == Status.EXPIRED:
        end = (content["closes"] or start) + dt.timedelta(days=1)
    elif status == Status.WITHDRAWN:
        end = max(today, start)
    previous = item.versions.filter(status=Status.PUBLISHED).order_by("-number").first()
    if start is not None:
        # The file is the item as it now stands: what was in force gives way from the new version's start.
        for old in item.versions.filter(status=Status.PUBLISHED):
            before = audit.snapshot(old)
            old.status = Status.SUPERSEDED
            old.in_force_to = max(start, old.in_force_from or start)
            old.save()
            audit.record(actor, "policies.supersede", old, before=before)
    version = ItemVersion.objects.create(
        item=item, number=_next_number(item), status=status, in_force_from=start, in_force_to=end,
        author=actor if getattr(actor, "is_authenticated", False) else None,
        search_text=search_text(content), **content)
    audit.record(actor, "policies.load", version)
    if status == Status.PUBLISHED:
        from . import push

        push.record_trigger(version, previous)
    return version


def item(code: str) -> PolicyItem:
    try:
        return PolicyItem.objects.get(code=code)
    except PolicyItem.DoesNotExist:
        raise NotFound("policies.no_item", _("没有编码为 %(item)s 的政策事项"), field="code", item=code) from None


# --- online applications (``services_applications``) --------------------------------------------------------

from . import services_applications as _applications  # noqa: E402

ACTION_LABELS, Refused, judge = _applications.ACTION_LABELS, _applications.Refused, _applications.judge
submit_application, move_application = _applications.submit_application, _applications.move_application
