"""The 免申即享 pipeline of ``auto`` items (``shared/specs/policy-hub.md``): every write, one function per
action, each checking permission and state, writing in one transaction and auditing.

compiled → reviewed → publicised → objections_closed → confirmed → payment_list → reconciled

- **Compile**: the batch evaluator lists the enterprises met on the list date, each with the amount of the
  program's own rule (``AMOUNT_RULES``, never a copy here) and its explanation. For the interest subsidy the
  list is a released batch of that program, imported through its selectors as it stands (payable > 0).
- **Review** by another person; entries removed with a reason before it.
- **公示** on day D; objections until the end of the ``objection_days``-th working day strictly after D;
  each upheld or rejected with a reason; upheld additions and increases go to a supplementary list, which
  takes the same path with a fresh period.
- **Confirm** freezes the list (an enterprise may decline its entry until then).
- **Payment list**: control totals (count, Σ, SHA-256 of the sorted lines), prepared by one person and
  approved by another; the payment results file (``core.uploads``) must reconcile or it is refused whole;
  failures go to a retry list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock, jobs, uploads
from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.i18n import Either, Joined, Message
from huiqi.core.money import yuan_to_fen
from huiqi.core.permissions import require
from huiqi.core.tabular import Column, RowError, Schema, parse_choice, parse_decimal, parse_text
from huiqi.core.workdays import Calendar
from huiqi.registry import selectors as registry
from huiqi.subsidy import selectors as subsidy

from . import rules, selectors
from . import selectors_auto as lists
from .batch import met
from .models import (
    LIST_TRANSITIONS,
    AutoEntry,
    AutoList,
    ListStatus,
    Mode,
    Objection,
    PaymentResultsUpload,
)

# The amount rules of items whose lists the hub compiles from their criteria: item code → a function of the
# met enterprises' facts (``selectors.facts_of``: uscc → facts) and the list date, giving uscc → fen. Each
# calls its program's own rules; a program declares its entry here. An item without one is refused (its
# amounts are never guessed); the interest subsidy is compiled from its released batches instead.
AMOUNT_RULES: dict[str, Callable[[dict[str, dict], dt.date], dict[str, int]]] = {}

BEFORE_CONFIRMED = (ListStatus.COMPILED, ListStatus.REVIEWED, ListStatus.PUBLICISED, ListStatus.OBJECTIONS_CLOSED)


def _bad(field: str, code: str, message, **params) -> ValidationFailed:
    return ValidationFailed(f"policies.{code}", message, field=field, **params)


def _reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _bad(field, "reason_required", _("须填写理由"))
    return reason[:300]


def _locked(auto_list: AutoList) -> AutoList:
    return AutoList.objects.select_for_update().get(pk=auto_list.pk)


def _move(actor, auto_list: AutoList, action: str, note: str = "", **changes) -> AutoList:
    """Move a list by the state machine (refused with its state otherwise), set ``changes``, audit."""
    starts, to = LIST_TRANSITIONS[action]
    locked = _locked(auto_list)
    if locked.status not in starts:
        raise Conflict("policies.list_illegal_transition", _("名单当前状态为「%(status)s」，不能执行此操作"),
                       field="status", status=locked.get_status_display())
    before = audit.snapshot(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.status = to
    locked.save()
    audit.record(actor, f"policies.list_{action}", locked, before=before, note=note)
    auto_list.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


def _auto_version(code: str, day: dt.date):
    version = selectors.version_on(code, day)
    if version is None:
        raise _bad("item", "list_item_unknown", _("事项 %(item)s 在 %(day)s 没有生效的版本"), item=code, day=day)
    if version.mode != Mode.AUTO:
        raise _bad("item", "list_item_not_auto", _("事项 %(item)s 不是免申即享事项，不能生成名单"), item=code)
    return version


def _kinds(usccs) -> dict[str, tuple[str, str, int]]:
    return {u: (name, kind, pk) for u, name, kind, pk in
            registry.enterprises().filter(uscc__in=list(usccs)).values_list("uscc", "name", "kind", "pk")}


COMPILE_JOB = "policies.compile_list"


def start_compile(actor, code: str, day: dt.date | None = None, batch: int | None = None):
    """Queue the compilation of item ``code``'s list on ``day`` (today) as a background job with its result
    (``compile_list``, or ``compile_subsidy_list`` from released ``batch``), for the page and the API alike: a
    list evaluates the whole registry, which is never done inside a web request. What is refused without
    evaluating (permission, an item not ``auto``, no amount rule, a batch unknown, not released or taken) is
    refused now; the job checks it all again. Returns the job."""
    from huiqi.core.i18n import stored

    require(actor, "policies.manage_lists")
    day = day or clock.today()
    _auto_version(code, day)
    if batch:
        _released_batch(actor, batch)
    elif code not in AMOUNT_RULES:
        raise _no_rule(code)
    return jobs.enqueue(COMPILE_JOB, {"item": code, "day": day.isoformat(), "batch": batch or None}, user=actor,
                        title=stored(_("生成免申即享名单（%(item)s，%(day)s）"), item=code, day=day.isoformat()))


def _no_rule(code: str) -> ValidationFailed:
    return _bad("item", "list_no_amount_rule", _("事项 %(item)s 没有登记其项目的金额计算规则，不能生成名单"), item=code)


def compile_list(actor, code: str, day: dt.date | None = None) -> AutoList:
    """Compile item ``code``'s list on ``day`` (today): the enterprises the batch evaluator finds met, each
    with the amount of the item's program rule (``AMOUNT_RULES``) and the per-enterprise explanation."""
    require(actor, "policies.manage_lists")
    day = day or clock.today()
    version = _auto_version(code, day)
    rule = AMOUNT_RULES.get(code)
    if rule is None:
        raise _no_rule(code)
    usccs = list(met(selectors.facts(rules.fields_used(version.criteria), day), version.criteria)
                 .order_by("uscc").values_list("uscc", flat=True))
    facts = selectors.facts_of(usccs, day)
    amounts = rule(facts, day)
    known = _kinds(usccs)
    with transaction.atomic():
        auto_list = AutoList.objects.create(item=version.item, version=version, list_date=day, compiled_by=actor,
                                            source=AutoList.Source.CRITERIA)
        AutoEntry.objects.bulk_create([
            AutoEntry(auto_list=auto_list, beneficiary_id=u, name=known[u][0], beneficiary_kind=known[u][1],
                      enterprise_id=known[u][2], amount_fen=int(amounts.get(u, 0)),
                      explanation={"source": "criteria", "version": version.number,
                                   **rules.explain(version.criteria, facts[u]).as_json()})
            for u in usccs if int(amounts.get(u, 0)) > 0])
        audit.record(actor, "policies.list_compile", auto_list, after={**audit.snapshot(auto_list),
                                                                       **lists.list_totals(auto_list)})
    return auto_list


def compile_subsidy_list(actor, code: str, batch_id: int, day: dt.date | None = None) -> AutoList:
    """The interest subsidy's list: released batch ``batch_id`` imported as it stands (its payments with
    payable > 0, read through the subsidy's selectors), nothing recomputed."""
    require(actor, "policies.manage_lists")
    day = day or clock.today()
    version = _auto_version(code, day)
    batch = _released_batch(actor, batch_id)
    payments = list(subsidy.beneficiary_lines_for(actor, batch).filter(payable_fen__gt=0).order_by("beneficiary_id")
                    .values_list("beneficiary_id", "name", "kind", "loans_counted", "interest_counted_fen",
                                 "entitlement_fen", "paid_before_fen", "due_fen", "payable_fen"))
    registered = {u: pk for u, (_n, _k, pk) in _kinds(p[0] for p in payments).items()}
    with transaction.atomic():
        auto_list = AutoList.objects.create(item=version.item, version=version, list_date=day, compiled_by=actor,
                                            source=AutoList.Source.SUBSIDY, subsidy_batch_id=batch.pk)
        AutoEntry.objects.bulk_create([
            AutoEntry(auto_list=auto_list, beneficiary_id=b, name=name, beneficiary_kind=kind,
                      enterprise_id=registered.get(b), amount_fen=payable,
                      explanation={"source": "subsidy_batch", "batch": batch.pk, "cutoff": batch.cutoff.isoformat(),
                                   "loans_counted": loans, "interest_counted_fen": interest,
                                   "entitlement_fen": entitled, "paid_before_fen": before, "due_fen": due,
                                   "payable_fen": payable})
            for b, name, kind, loans, interest, entitled, before, due, payable in payments])
        audit.record(actor, "policies.list_compile", auto_list, after={**audit.snapshot(auto_list),
                                                                       **lists.list_totals(auto_list)})
    return auto_list


def _released_batch(actor, batch_id: int):
    """A released subsidy batch not yet made into a list (read through the subsidy's selectors), or refused."""
    batch = subsidy.batch_for(actor, batch_id)
    if batch is None:
        raise _bad("batch", "list_batch_unknown", _("没有编号为 %(pk)s 的贴息批次"), pk=batch_id)
    if batch.status != "released":
        raise _bad("batch", "list_batch_not_released", _("贴息批次 #%(pk)s 尚未拨付（状态：%(status)s），不能生成名单"),
                   pk=batch.pk, status=batch.get_status_display())
    if AutoList.objects.filter(subsidy_batch_id=batch.pk, kind=AutoList.Kind.ORIGINAL).exists():
        raise Conflict("policies.list_batch_taken", _("贴息批次 #%(pk)s 已生成过名单"), field="batch", pk=batch.pk)
    return batch


def remove_entry(actor, entry: AutoEntry, reason: str) -> AutoEntry:
    """Take an entry off a list under review, with the reason."""
    require(actor, "policies.manage_lists")
    reason = _reason(reason)
    with transaction.atomic():
        auto_list = _locked(entry.auto_list)
        if auto_list.status != ListStatus.COMPILED:
            raise Conflict("policies.list_frozen_for_review", _("只能在复核前移出名单条目（名单当前状态为「%(status)s」）"),
                           status=auto_list.get_status_display())
        return _set_entry(actor, entry, AutoEntry.Status.REMOVED, reason, "policies.list_remove_entry")


def _set_entry(actor, entry: AutoEntry, status: str, reason: str, action: str) -> AutoEntry:
    locked = AutoEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.status != AutoEntry.Status.LISTED:
        raise Conflict("policies.entry_not_listed", _("该条目已不在名单中（%(status)s）"),
                       status=locked.get_status_display())
    before = audit.snapshot(locked)
    locked.status, locked.status_reason = status, reason
    locked.save()
    audit.record(actor, action, locked, before=before)
    entry.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


def review_list(actor, auto_list: AutoList) -> AutoList:
    """Compiled → reviewed, by someone other than who compiled it."""
    require(actor, "policies.manage_lists")
    if auto_list.compiled_by_id == getattr(actor, "pk", None):
        raise Conflict("policies.list_maker_checker", _("生成名单的人不能复核自己生成的名单，须由另一位工作人员复核"))
    with transaction.atomic():
        return _move(actor, auto_list, "review", reviewed_by=actor, reviewed_at=timezone.now())


def objection_deadline(published_on: dt.date) -> dt.date:
    """The last day of a 公示 published on ``published_on``: the ``objection_days``-th working day strictly
    after it, on the stored working-day calendar, with the parameter in force on that day."""
    return rules.objection_deadline(Calendar.load(), published_on, selectors.params_on(published_on).objection_days)


def publish_list(actor, auto_list: AutoList, day: dt.date | None = None) -> AutoList:
    """Reviewed → publicised on ``day`` (today), with its objection period."""
    require(actor, "policies.manage_lists")
    day = day or clock.today()
    with transaction.atomic():
        return _move(actor, auto_list, "publish", published_by=actor, published_on=day,
                     objections_until=objection_deadline(day))


def _own_enterprise(actor, uscc: str):
    require(actor, "policies.own_entries")
    found = selectors.own_enterprises(actor).filter(uscc=(uscc or "").strip().upper()).first()
    if found is None:
        raise PermissionDenied("policies.not_own_enterprise", _("只能为本企业提出异议或放弃"))
    return found


def object_to(actor, auto_list: AutoList, uscc: str, kind: str, text: str, requested_fen: int | None = None,
              day: dt.date | None = None) -> Objection:
    """An enterprise's objection to a publicised list, within its period: a listed enterprise about its entry
    (``increase`` or ``other``), another asking to be added (``add``). Every bad field is named at once."""
    enterprise = _own_enterprise(actor, uscc)
    day = day or clock.today()
    errors = []
    if kind not in Objection.Kind.values:
        errors.append(_bad("kind", "objection_kind", _("异议类型须为申请列入、金额异议或其他异议之一")))
    text = (text or "").strip()
    if not text:
        errors.append(_bad("text", "objection_text", _("须填写异议内容")))
    if requested_fen is not None and requested_fen <= 0:
        errors.append(_bad("requested", "objection_requested", _("申请金额须大于 0")))
    entry = (AutoEntry.objects.filter(auto_list=auto_list, beneficiary_id=enterprise.uscc,
                                      status=AutoEntry.Status.LISTED).first())
    if kind == Objection.Kind.ADD and entry is not None:
        errors.append(_bad("kind", "objection_already_listed", _("本企业已在名单中，请提出金额异议或其他异议")))
    if kind in (Objection.Kind.INCREASE, Objection.Kind.OTHER) and entry is None:
        errors.append(_bad("kind", "objection_not_listed", _("本企业不在名单中，只能申请列入")))
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        locked = _locked(auto_list)
        if locked.status != ListStatus.PUBLICISED or locked.objections_until is None:
            raise Conflict("policies.objection_not_publicised", _("名单不在公示期（当前状态：%(status)s），不受理异议"),
                           status=locked.get_status_display())
        if day > locked.objections_until:
            raise Conflict("policies.objection_period_over",
                           _("异议期已于 %(until)s 结束，不再受理异议"), field="day", until=locked.objections_until)
        if day < locked.published_on:
            raise Conflict("policies.objection_before_publication", _("名单 %(on)s 才公示"), on=locked.published_on)
        objection = Objection.objects.create(auto_list=locked, entry=entry, enterprise=enterprise, kind=kind,
                                             text=text[:2000], requested_fen=requested_fen, submitted_by=actor)
        audit.record(actor, "policies.objection", objection)
    return objection


def decide_objection(actor, objection: Objection, upheld: bool, reason: str, granted_fen: int | None = None) -> Objection:
    """Uphold or reject an objection with the reason. An upheld addition or increase names the amount granted
    (it goes to the supplementary 公示); an upheld other objection takes the entry off the list."""
    require(actor, "policies.manage_lists")
    errors = []
    try:
        reason = _reason(reason)
    except ValidationFailed as exc:
        errors.append(exc)
    money = objection.kind in (Objection.Kind.ADD, Objection.Kind.INCREASE)
    if upheld and money and (granted_fen is None or granted_fen <= 0):
        errors.append(_bad("granted", "objection_granted", _("异议成立的申请列入或金额异议须填写核定的补充金额（大于 0）")))
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        auto_list = _locked(objection.auto_list)
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if auto_list.status not in (ListStatus.PUBLICISED, ListStatus.OBJECTIONS_CLOSED):
            raise Conflict("policies.objection_list_frozen", _("名单已确认，不能再处理异议"))
        if locked.decision != Objection.Decision.PENDING:
            raise Conflict("policies.objection_decided", _("该异议已处理（%(decision)s）"),
                           decision=locked.get_decision_display())
        before = audit.snapshot(locked)
        locked.decision = Objection.Decision.UPHELD if upheld else Objection.Decision.REJECTED
        locked.reason, locked.decided_by, locked.decided_at = reason, actor, timezone.now()
        locked.granted_fen = granted_fen if upheld and money else None
        locked.save()
        audit.record(actor, "policies.objection_decide", locked, before=before)
        if upheld and locked.kind == Objection.Kind.OTHER and locked.entry_id:
            entry = AutoEntry.objects.get(pk=locked.entry_id)
            if entry.status == AutoEntry.Status.LISTED:
                _set_entry(actor, entry, AutoEntry.Status.REMOVED, reason, "policies.list_remove_entry")
    objection.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


def decline_entry(actor, entry: AutoEntry, reason: str = "") -> AutoEntry:
    """An enterprise declines its own entry, at any time before the list is confirmed."""
    _own_enterprise(actor, entry.beneficiary_id)
    with transaction.atomic():
        auto_list = _locked(entry.auto_list)
        if auto_list.status not in BEFORE_CONFIRMED:
            raise Conflict("policies.list_confirmed", _("名单已确认，不能再放弃"))
        return _set_entry(actor, entry, AutoEntry.Status.DECLINED, (reason or "").strip()[:300],
                          "policies.list_decline")


def close_objections(actor, auto_list: AutoList, day: dt.date | None = None) -> AutoList:
    """Publicised → objections_closed, once the objection period is over."""
    require(actor, "policies.manage_lists")
    day = day or clock.today()
    if auto_list.objections_until and day <= auto_list.objections_until:
        raise Conflict("policies.objection_period_open", _("异议期至 %(until)s 结束，之后才能结束异议期"),
                       until=auto_list.objections_until)
    with transaction.atomic():
        return _move(actor, auto_list, "close", closed_by=actor, closed_at=timezone.now())


def confirm_list(actor, auto_list: AutoList, day: dt.date | None = None) -> AutoList:
    """Objections_closed → confirmed: the list is frozen. Every objection must be decided; the upheld
    additions and increases go to a supplementary list (compiled now, to be reviewed and publicised with a
    fresh period), which is returned as ``auto_list.supplement`` when there is one."""
    require(actor, "policies.manage_lists")
    day = day or clock.today()
    with transaction.atomic():
        pending = auto_list.objections.filter(decision=Objection.Decision.PENDING).count()
        if pending:
            raise Conflict("policies.objections_pending", _("还有 %(n)s 件异议未处理，不能确认名单"), n=pending)
        confirmed = _move(actor, auto_list, "confirm", confirmed_by=actor, confirmed_at=timezone.now())
        granted = list(auto_list.objections.filter(decision=Objection.Decision.UPHELD, granted_fen__isnull=False,
                                                   supplement__isnull=True).select_related("enterprise"))
        auto_list.supplement = None
        if granted:
            supplement = AutoList.objects.create(item=auto_list.item, version=auto_list.version, list_date=day,
                                                 kind=AutoList.Kind.SUPPLEMENT, parent=confirmed,
                                                 source=auto_list.source, compiled_by=actor)
            per: dict[str, dict] = {}
            for o in granted:
                acc = per.setdefault(o.enterprise.uscc, {"enterprise": o.enterprise, "fen": 0, "objections": []})
                acc["fen"] += o.granted_fen
                acc["objections"].append({"objection": o.pk, "kind": o.kind, "reason": o.reason,
                                          "granted_fen": o.granted_fen})
            AutoEntry.objects.bulk_create([
                AutoEntry(auto_list=supplement, beneficiary_id=u, name=v["enterprise"].name,
                          beneficiary_kind=v["enterprise"].kind, enterprise=v["enterprise"], amount_fen=v["fen"],
                          explanation={"source": "objections", "parent": confirmed.pk, "objections": v["objections"]})
                for u, v in sorted(per.items())])
            Objection.objects.filter(pk__in=[o.pk for o in granted]).update(supplement=supplement)
            audit.record(actor, "policies.list_supplement", supplement,
                         after={**audit.snapshot(supplement), **lists.list_totals(supplement)})
            auto_list.supplement = supplement
    return confirmed


def prepare_payment(actor, auto_list: AutoList) -> AutoList:
    """Confirmed → payment_list: the listed entries become the payment list, its control totals kept."""
    require(actor, "policies.manage_lists")
    with transaction.atomic():
        lines = list(lists.payment_lines(auto_list))
        if not lines:
            raise Conflict("policies.payment_list_empty", _("名单中没有需要支付的条目"))
        count, total, digest = rules.control_totals((b, fen) for b, _n, fen in lines)
        moved = _move(actor, auto_list, "prepare_payment", payment_prepared_by=actor,
                      payment_prepared_at=timezone.now(), payment_count=count, payment_total_fen=total,
                      payment_digest=digest)
        AutoEntry.objects.filter(auto_list=auto_list, status=AutoEntry.Status.LISTED, amount_fen__gt=0).update(
            payment=AutoEntry.Payment.PENDING)
    return moved


def approve_payment(actor, auto_list: AutoList) -> AutoList:
    """The payment list approved by someone other than who prepared it."""
    require(actor, "policies.manage_lists")
    with transaction.atomic():
        locked = _locked(auto_list)
        if locked.status != ListStatus.PAYMENT_LIST or locked.payment_approved_by_id is not None:
            raise Conflict("policies.payment_not_waiting", _("没有待审批的支付清单（名单当前状态为「%(status)s」）"),
                           status=locked.get_status_display())
        if locked.payment_prepared_by_id == getattr(actor, "pk", None):
            raise Conflict("policies.payment_maker_checker", _("编制支付清单的人不能审批自己编制的清单，须由另一位工作人员审批"))
        before = audit.snapshot(locked)
        locked.payment_approved_by, locked.payment_approved_at = actor, timezone.now()
        locked.save()
        audit.record(actor, "policies.list_approve_payment", locked, before=before)
    auto_list.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})
    return locked


# --- the payment results file ------------------------------------------------------------------------------

RESULT_STATUSES = {"paid": "paid", "已支付": "paid", "支付成功": "paid", "成功": "paid",
                   "failed": "failed", "失败": "failed", "支付失败": "failed"}


class ResultsImporter(uploads.Importer):
    """支付结果: beneficiary_id, status (paid / failed), amount (元), note. Every line of the payment list once,
    each amount as listed; the file as a whole must reconcile (``rules.reconciles``) or nothing is applied."""

    name = "policies-payment-results"
    key = ("beneficiary_id",)

    def __init__(self, auto_list: AutoList):
        self.auto_list = auto_list
        self.lines = {b: fen for b, _n, fen in lists.payment_lines(auto_list)}

    def schema(self) -> Schema:
        return Schema("policies_payment_results", (
            Column("beneficiary_id", "受益人证件号码", parser=parse_text(18), aliases=("统一社会信用代码",),
                   example="91440300AY4CL12T24", help=_("支付清单中的受益人证件号码")),
            Column("status", "状态", aliases=("支付状态",), example="已支付",
                   parser=parse_choice(RESULT_STATUSES, {"paid": _("已支付"), "failed": _("支付失败")}),
                   help=_("银行回报的支付结果：已支付或支付失败")),
            Column("amount", "金额（元）", aliases=("金额",), parser=parse_decimal(places=2, min=0), example="1234.56",
                   help=_("该笔的金额，须与支付清单一致，单位元")),
            Column("note", "备注", required=False, parser=parse_text(300), aliases=("失败原因",),
                   help=_("可选：银行的说明，如支付失败的原因")),
        ))

    def same_file_scope(self, model):
        return model.objects.filter(auto_list=self.auto_list)

    def check_chunk(self, rows):
        errors = []
        for r in rows:
            b = r.get("beneficiary_id")
            if b is None:
                continue
            if b not in self.lines:
                errors.append(RowError.of(r["_row"], "beneficiary_id", b, _("%(beneficiary_id)s 不在名单 #%(pk)s 的支付清单中"),
                                          beneficiary_id=b, pk=self.auto_list.pk))
            elif r.get("amount") is not None and yuan_to_fen(r["amount"]) != self.lines[b]:
                errors.append(RowError.of(r["_row"], "amount", str(r["amount"]), _("金额与支付清单不符（应为 %(amount)s）"),
                                          amount=rules.fen_text(self.lines[b])))
        return errors

    def build(self, rows):
        for r in rows:
            yield (r["beneficiary_id"], r["status"], yuan_to_fen(r["amount"]), r.get("note") or "")

    def store(self, targets, actor, record):
        return apply_results(actor, self.auto_list, targets, record)


class ResultsRefused(ValidationFailed):
    """A payment results file refused whole for bad rows: nothing of it was applied."""


def _mark_refused(record, exc: ValidationFailed) -> None:
    from huiqi.core.i18n import stored_error

    type(record).objects.filter(pk=record.pk).update(status=uploads.UploadRecord.Status.REFUSED,
                                                     message=stored_error(exc), finished_at=timezone.now())


def apply_results(actor, auto_list: AutoList, targets: list, record) -> tuple[int, int]:
    """Apply a checked results file: it must reconcile with the payment list (Σ paid + Σ failed = Σ amount,
    counts agree) or it is refused whole; each entry becomes paid or failed (audited), the list reconciled,
    and the failures go to a retry list."""
    with transaction.atomic():
        locked = _locked(auto_list)
        if locked.status != ListStatus.PAYMENT_LIST or locked.payment_approved_by_id is None:
            raise Conflict("policies.results_not_expected", _("支付清单尚未审批，不能上传支付结果"))
        paid = [fen for _b, s, fen, _n in targets if s == "paid"]
        failed = [fen for _b, s, fen, _n in targets if s == "failed"]
        if not rules.reconciles(locked.payment_count, locked.payment_total_fen, paid, failed):
            raise ValidationFailed(
                "policies.results_do_not_reconcile",
                _("支付结果与支付清单不符，整个文件未入库：清单 %(count)s 笔、%(total)s 元；文件已支付 %(paid_n)s 笔 %(paid)s 元、"
                  "失败 %(failed_n)s 笔 %(failed)s 元"),
                field="file", count=locked.payment_count, total=rules.fen_text(locked.payment_total_fen),
                paid_n=len(paid), paid=rules.fen_text(sum(paid)), failed_n=len(failed), failed=rules.fen_text(sum(failed)))
        entries = {e.beneficiary_id: e for e in AutoEntry.objects.filter(
            auto_list=locked, payment=AutoEntry.Payment.PENDING).select_for_update()}
        changes = []
        for b, status, _fen, note in targets:
            entry = entries[b]
            before = audit.snapshot(entry)
            entry.payment, entry.payment_note = status, note
            changes.append((entry, before, audit.snapshot(entry)))
        AutoEntry.objects.bulk_update([c[0] for c in changes], ["payment", "payment_note"])
        audit.record_each(actor, "policies.list_payment_result", changes, note=record.file_name)
        _move(actor, locked, "reconcile", reconciled_by=actor, reconciled_at=timezone.now(),
              paid_count=len(paid), paid_fen=sum(paid), failed_count=len(failed), failed_fen=sum(failed),
              note=record.file_name)
        failures = sorted((e for e, _b, _a in changes if e.payment == AutoEntry.Payment.FAILED),
                          key=lambda e: e.beneficiary_id)
        if failures:
            retry = AutoList.objects.create(item=locked.item, version=locked.version, list_date=clock.today(),
                                            kind=AutoList.Kind.RETRY, parent=locked, source=locked.source,
                                            compiled_by=actor, status=ListStatus.CONFIRMED, confirmed_by=actor,
                                            confirmed_at=timezone.now())
            AutoEntry.objects.bulk_create([
                AutoEntry(auto_list=retry, beneficiary_id=e.beneficiary_id, name=e.name,
                          beneficiary_kind=e.beneficiary_kind, enterprise_id=e.enterprise_id, amount_fen=e.amount_fen,
                          explanation={"source": "retry", "parent": locked.pk, "entry": e.pk, "note": e.payment_note})
                for e in failures])
            audit.record(actor, "policies.list_retry", retry, after={**audit.snapshot(retry),
                                                                     **lists.list_totals(retry)})
    auto_list.refresh_from_db()
    return len(changes), 0


def upload_results(actor, auto_list: AutoList, upload) -> PaymentResultsUpload:
    """Receive the payment results file of an approved payment list (``core.uploads``): applied whole, or
    refused whole (``ResultsRefused`` naming every bad row, or the totals that do not reconcile)."""
    require(actor, "policies.manage_lists")
    if auto_list.status != ListStatus.PAYMENT_LIST or auto_list.payment_approved_by_id is None:
        raise Conflict("policies.results_not_expected", _("支付清单尚未审批，不能上传支付结果"))
    importer = ResultsImporter(auto_list)
    record = uploads.save_upload(PaymentResultsUpload, importer, upload, actor, auto_list=auto_list)
    try:
        record = uploads.process(importer, record, actor)
    except (ValidationFailed, Conflict) as exc:
        _mark_refused(record, exc)  # the totals do not reconcile, or the list moved meanwhile: nothing applied
        raise
    if record.status == uploads.UploadRecord.Status.REFUSED:
        errors = uploads.read_errors(record, limit=5)
        shown = Joined(Message(_("第 %(row)s 行 %(column)s：%(reason)s"), row=e["row"], column=e.get("column") or "",
                               reason=Either(e.get("zh", ""), e.get("en", ""))) for e in errors)
        raise ResultsRefused("policies.results_refused", _("支付结果文件有 %(n)s 处错误，未做任何更改：%(shown)s"),
                             field="file", n=record.error_count, shown=shown)
    return record

