"""Every write of the risk-compensation pool, and its computations: each checks permission and state,
writes, audits. The headless simulation records nothing."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, DomainError, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.headless import write_csv
from huiqi.core.permissions import require
from huiqi.lending import selectors as lending
from huiqi.registry import selectors as registry
from huiqi.registry import services as registry_services

from . import rules, selectors
from .models import BankEvent, Claim, PoolEntry

RATIO_TABLE_NAMES = frozenset({"base_ratio", "priority_ratio", "window_ratio", "window_start", "window_end",
                               "cap_normal", "cap_window", "extra_rows"})


@dataclass
class Simulation:
    """A simulation's claims (in approval order), the balance it started from and what is left."""

    lines: list[rules.ClaimLine]
    balance_fen: int
    left_fen: int
    params: rules.Params

    @property
    def paid_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)

    @property
    def owed_fen(self) -> int:
        return sum(line.owed_fen for line in self.lines)

    @property
    def eligible(self) -> int:
        return sum(1 for line in self.lines if line.reason is None)


def simulate(overrides: Mapping | None = None, *, inputs: selectors.Inputs | None = None) -> Simulation:
    """Settle, recording nothing, every NPL held that has no claim yet, as claims approved in the order
    (``npl_date``, ``bank_code``, ``loan_no``), against the balance left (``pool_size`` less what recorded
    claims were paid). The parameters in force today, with ``overrides`` by the spec's names; a loan's ratio
    is the table's on its registration day, unless ``overrides`` change the table: then every loan is priced
    by the overridden table, as if it had been registered under it."""
    params = selectors.params_on()
    if overrides:
        params = params.with_overrides(overrides)
    balance = max(params.pool_size_fen - selectors.paid_on_recorded_claims_fen(), 0)
    what_if = bool(overrides and RATIO_TABLE_NAMES & set(overrides))
    if inputs is not None:  # plain values (the rules' reference)
        pricing = None
        if not what_if:
            fixed = selectors.fixed_pricing_of_npls()
            tables = selectors.pricing_by_registration(d for d in inputs.registered_on.values() if d is not None)
            pricing = {key: fixed.get(key) or rules.loan_ratio(loan, tables[loan.registered_date])
                       for key, loan in inputs.loans.items() if loan.registered_date is not None}
        lines, left = rules.simulate(inputs.loans, inputs.npls, inputs.registry, inputs.onboarded, params, balance,
                                     pricing)
        return Simulation(lines, balance, left, params)
    # Set-based: every NPL assessed and settled at once (``rules_columnar.simulate``, held to ``rules.simulate``
    # by a property test); each loan at the ratio fixed when it was registered (the table of its registration
    # day for a loan the pool has not registered yet), unless ``overrides`` change the table.
    from . import rules_columnar

    claims = selectors.unclaimed_claims()
    frame, left = rules_columnar.simulate(claims.claims, params, balance, None if what_if else claims.tables)
    ratios = {e4: Decimal(e4).scaleb(-4) for e4 in frame["ratio_e4"].unique().to_list()}
    columns = [frame[c].to_list() for c in ("bank_code", "loan_no", "reason", "loss_fen", "ratio_e4",
                                             "compensation_fen", "paid_fen", "owed_fen")]
    lines = [rules.ClaimLine(code, no, reason, loss, ratios[e4], compensation, paid, owed)
             for code, no, reason, loss, e4, compensation, paid, owed in zip(*columns)]
    return Simulation(lines, balance, left, params)


def write_claims_csv(result: Simulation, out_dir: str | os.PathLike) -> Path:
    """``claims.csv`` as the spec's last section says (UTF-8, comma, a header line)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "claims.csv"
    write_csv(path, rules.CSV_HEADER, (line.csv_row() for line in result.lines))
    return path


# --------------------------------------------------------------------------------------------------
# Banks' lifecycle


def move_bank(actor, bank, kind: str, on, *, agreement_version: str = "", note: str = ""):
    """A bank's next step in the pool, dated: signed and onboarded set the bank's dates (onboarded not
    before signed); suspended, reinstated and exited are events, each only from the state it leaves."""
    require(actor, "pool.manage_banks")
    with transaction.atomic():
        bank = registry.banks().select_for_update().get(pk=bank.pk)
        state = selectors.bank_state(bank, on)
        allowed = BANK_TRANSITIONS[kind]
        if state not in allowed:
            raise Conflict("pool.bank_transition", _("%(bank)s 在 %(on)s 的状态为“%(state)s”，不能%(step)s"),
                           field="kind", value=kind, bank=bank.name, on=on.isoformat(),
                           state=BANK_STATES[state], step=BankEvent.Kind(kind).label)
        later = bank.pool_events.filter(on__gt=on).exists()
        if later:
            raise Conflict("pool.bank_event_order", _("该银行在 %(on)s 之后已有记录，不能补记更早的事项"),
                           field="on", value=on.isoformat(), on=on.isoformat())
        if kind == "signed":
            registry_services.set_bank_dates(actor, bank, signed_date=on)
        elif kind == "onboarded":
            if bank.signed_date is None or on < bank.signed_date:
                raise ValidationFailed("pool.onboarded_before_signed", _("入库日期不能早于签约日期"), field="on",
                                       value=on.isoformat())
            registry_services.set_bank_dates(actor, bank, onboarded_date=on)
        event = BankEvent.objects.create(bank=bank, kind=kind, on=on, agreement_version=agreement_version,
                                         note=note, created_by=actor)
        audit.record(actor, f"pool.bank_{kind}", event, note=note)
    return event


BANK_STATES = {"none": _("未签约"), "signed": pgettext_lazy("bank", "签约"), "onboarded": pgettext_lazy("bank", "入库"),
               "suspended": pgettext_lazy("bank", "暂停"), "exited": pgettext_lazy("bank", "退出")}
# The states each step may leave.
BANK_TRANSITIONS = {"signed": ("none",), "onboarded": ("signed",), "suspended": ("onboarded",),
                    "reinstated": ("suspended",), "exited": ("signed", "onboarded", "suspended")}


# --------------------------------------------------------------------------------------------------
# The pool's money


def _entry(actor, kind: str, amount_fen: int, on, *, claim=None, bank=None, note: str = "") -> PoolEntry:
    entry = PoolEntry.objects.create(kind=kind, amount_fen=amount_fen, on=on, claim=claim, bank=bank or (
        claim.bank if claim is not None else None), note=note, created_by=actor if actor is not None else None)
    audit.record(actor, f"pool.{kind}", entry, note=note)
    return entry


def _pool_lock():
    """Every movement of the pool's money is taken one at a time (the balance is read, then spent)."""
    list(PoolEntry.objects.select_for_update().filter(kind="top_up").order_by("id")[:1])
    return selectors.balance_fen()


def top_up(actor, amount_fen: int, on=None, note: str = "") -> PoolEntry:
    """Money into the pool; what approved claims are still owed is paid from it at once, in approval order."""
    require(actor, "pool.top_up")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationFailed("pool.top_up_amount", _("注资金额必须大于零"), field="amount", value=amount_fen)
    on = on or clock.today()
    with transaction.atomic():
        _pool_lock()
        entry = _entry(actor, "top_up", amount_fen, on, note=note)
        _pay_owed(actor, on)
    return entry


def _pay(actor, claim: Claim, on) -> int:
    """Pay ``claim`` what the balance allows of what it is owed, less what its bank owes the pool back
    (an unpaid clawback is offset against the bank's next payment)."""
    balance = selectors.balance_fen()
    owed = claim.approved_fen - claim.paid_fen
    pay = min(owed, max(balance, 0))
    if pay <= 0:
        return 0
    before = audit.snapshot(claim)
    _entry(actor, "payout", -pay, on, claim=claim, note=str(claim))
    claim.paid_fen += pay
    claim.save(update_fields=["paid_fen"])
    audit.record(actor, "pool.pay", claim, before=before)
    for other in (Claim.objects.select_for_update().filter(bank=claim.bank, clawed_back_fen__gt=F("clawback_settled_fen"))
                  .order_by("decided_at", "id")):
        offset = min(other.clawed_back_fen - other.clawback_settled_fen, pay)
        if offset <= 0:
            break
        _settle_clawback(actor, other, offset, on, "offset")
        pay -= offset
    return pay


def _pay_owed(actor, on) -> None:
    for claim in Claim.objects.select_for_update().filter(status="approved", paid_fen__lt=F("approved_fen")).order_by(
            "approval_seq"):
        if selectors.balance_fen() <= 0:
            break
        _pay(actor, claim, on)


def _settle_clawback(actor, claim: Claim, amount: int, on, kind: str) -> None:
    before = audit.snapshot(claim)
    _entry(actor, kind, amount, on, claim=claim, note=str(claim))
    claim.clawback_settled_fen += amount
    claim.save(update_fields=["clawback_settled_fen"])
    audit.record(actor, "pool.clawback_settled", claim, before=before)


# --------------------------------------------------------------------------------------------------
# Claims


@dataclass(frozen=True)
class ClaimInput:
    """A bank's claim as a page, a file row or the API gives it. A blank amount or NPL date is taken from
    what the bank reported: the NPL date from the loan's five-tier classification history (its first day
    次级 or worse), else from its non-performing loans record; the amounts from that record."""

    bank_code: str
    loan_no: str
    outstanding_fen: int | None = None  # blank: the NPL file's
    recovered_fen: int | None = None
    evidence: str = ""
    idempotency_key: str = ""
    npl_date: dt.date | None = None  # blank: the classification history's, else the NPL file's


@dataclass(frozen=True)
class CheckedClaim:
    """A claim that passed every filing rule: its loan and the values it will be filed with."""

    loan: object
    npl_date: dt.date
    outstanding_fen: int
    recovered_fen: int
    rule_loan: rules.Loan
    rule_npl: rules.Npl


def _loan_for(actor, data: ClaimInput):
    loan = lending.loans().select_related("bank").filter(bank__code=data.bank_code, loan_no=data.loan_no).first()
    if loan is None:
        raise ValidationFailed("pool.loan_unknown", _("贷款 %(bank)s/%(loan_no)s 不在贷款台账中"), field="loan_no",
                               value=data.loan_no, bank=data.bank_code, loan_no=data.loan_no)
    if actor is not None and getattr(actor, "role", None) == "bank" and loan.bank_id != actor.bank_id:
        raise ValidationFailed("pool.loan_of_another_bank", _("只能为本行的贷款申请补偿，%(loan_no)s 不是本行的贷款"),
                               field="loan_no", value=data.loan_no, loan_no=data.loan_no)
    return loan


def npl_date_errors(given: dt.date, history: selectors.ClassificationHistory) -> list[ValidationFailed]:
    """The rule between a claim's NPL date and the loan's reported five-tier classifications: the NPL date is
    the first day the loan was classified 次级 or worse, so a claim must give that day when the history has
    one, and cannot give a day on or before one the bank reported the loan 正常 or 关注 when it has none."""
    if history.npl_date is not None and given != history.npl_date:
        return [ValidationFailed(
            "pool.npl_date_contradicts_classification",
            _("不良认定日期 %(given)s 与本行报送的五级分类不符：该贷款于 %(first)s 首次被分为次级或更差，不良认定日期应为 %(first)s"),
            field="npl_date", value=given.isoformat(), given=given.isoformat(), first=history.npl_date.isoformat())]
    if history.npl_date is None and history.last_performing is not None and given <= history.last_performing:
        return [ValidationFailed(
            "pool.npl_date_while_performing",
            _("不良认定日期 %(given)s 与本行报送的五级分类不符：该贷款在 %(day)s 仍为正常或关注类"),
            field="npl_date", value=given.isoformat(), given=given.isoformat(),
            day=history.last_performing.isoformat())]
    return []


def check_claim(actor, data: ClaimInput, *, lock: bool = False) -> CheckedClaim:
    """Every filing rule of a claim, all at once (``InvalidFields``, each naming its field), writing nothing:
    the loan is the bank's own, in the ledger and registered in the pool; there is an NPL date (given, or
    from the classification history or the NPL record) that agrees with the classification history
    (``npl_date_errors``) and falls after the loan's start; amounts within bounds; within the claim window;
    no claim open on the loan. The page, the API and the claims file all file through it."""
    loan = _loan_for(actor, data)
    if lock:
        loan = lending.loans().select_for_update().select_related("bank").get(pk=loan.pk)
    npl = lending.non_performing().filter(loan=loan).first()
    history = selectors.classification_history(loan.pk)
    errors = []
    if loan.registered_date is None:
        errors.append(ValidationFailed("pool.loan_not_registered", rules.REASONS["loan_not_registered"],
                                       field="loan_no", value=data.loan_no))
    npl_date = data.npl_date or history.npl_date or (npl.npl_date if npl is not None else None)
    if npl_date is None:
        errors.append(ValidationFailed("pool.no_npl", _("该贷款尚未报送不良贷款记录或次级及以下的五级分类，请先报送"),
                                       field="loan_no", value=data.loan_no))
    elif data.npl_date is not None:
        errors += npl_date_errors(data.npl_date, history)
    if npl_date is not None and npl_date <= loan.start_date:
        errors.append(ValidationFailed("pool.npl_before_start", _("不良认定日期必须晚于放款日期 %(start)s"),
                                       field="npl_date", value=npl_date.isoformat(),
                                       start=loan.start_date.isoformat()))
    outstanding = data.outstanding_fen if data.outstanding_fen is not None else (
        npl.outstanding_principal_fen if npl is not None else None)
    recovered = data.recovered_fen if data.recovered_fen is not None else (npl.recovered_fen if npl is not None else 0)
    if outstanding is None and npl_date is not None:
        errors.append(ValidationFailed("pool.outstanding_required", _("没有已报送的不良贷款记录，须填写不良本金"),
                                       field="outstanding_principal"))
    rule_loan = selectors.as_rule_loan(loan, loan.bank.code)
    rule_npl = None
    if npl_date is not None and outstanding is not None:
        rule_npl = rules.Npl(loan.bank.code, loan.loan_no, npl_date, outstanding, recovered)
        errors += rules.check_npl(rule_npl, rule_loan)
        today = clock.today()
        params = selectors.params_on(today)
        if not rules.within_claim_window(npl_date, today, params):
            if params.claim_window_days is None:
                errors.append(ValidationFailed("pool.claims_not_open", _("补偿申请期限尚未设定，暂不受理补偿申请"),
                                               field="npl_date"))
            else:
                errors.append(ValidationFailed(
                    "pool.outside_claim_window", _("不良认定日期 %(npl_date)s 起 %(days)s 天内方可申请，已超过申请期限"),
                    field="npl_date", value=npl_date.isoformat(), npl_date=npl_date.isoformat(),
                    days=params.claim_window_days))
    if Claim.objects.filter(loan=loan, status__in=Claim.OPEN).exists():
        errors.append(Conflict("pool.claim_open", _("该贷款已有一笔办理中的补偿申请"), field="loan_no",
                               value=data.loan_no))
    if errors:
        raise InvalidFields(errors)
    return CheckedClaim(loan, npl_date, outstanding, recovered, rule_loan, rule_npl)


def file_claim(actor, data: ClaimInput, *, upload=None) -> Claim:
    """A bank files a claim on one of its non-performing loans, with its evidence (``check_claim``'s rules).
    The same idempotency key again returns the claim it filed. ``upload``: the claims file it came from (a
    claim filed by file has no evidence yet: it waits for it before it can be approved)."""
    require(actor, "pool.file_claim")
    with transaction.atomic():
        if data.idempotency_key:
            done = Claim.objects.filter(bank__code=data.bank_code, idempotency_key=data.idempotency_key).first()
            if done is not None:
                if (done.loan.loan_no, done.outstanding_fen, done.recovered_fen, done.npl_date) != (
                        data.loan_no, data.outstanding_fen if data.outstanding_fen is not None else done.outstanding_fen,
                        data.recovered_fen if data.recovered_fen is not None else done.recovered_fen,
                        data.npl_date or done.npl_date):
                    raise Conflict("pool.idempotency_reused", _("幂等键 %(key)s 已用于另一笔补偿申请"),
                                   field="idempotency_key", value=data.idempotency_key, key=data.idempotency_key)
                return done
        checked = check_claim(actor, data, lock=True)
        loan, today = checked.loan, clock.today()
        assessed = _assess(checked.rule_loan, checked.rule_npl, today)
        claim = Claim.objects.create(
            bank=loan.bank, loan=loan, npl_date=checked.npl_date, outstanding_fen=checked.outstanding_fen,
            recovered_fen=checked.recovered_fen, loss_fen=assessed.loss_fen, ratio=assessed.ratio,
            compensation_fen=assessed.compensation_fen, reason=assessed.reason or "", evidence=data.evidence.strip(),
            idempotency_key=data.idempotency_key, upload=upload, filed_by=actor, filed_on=today,
            filed_at=clock.now())
        audit.record(actor, "pool.file", claim)
    return claim


def add_evidence(actor, claim: Claim, evidence: str) -> Claim:
    """The bank adds (or completes) the evidence of its open claim; a claim filed by file waits for it, and
    until then the bureau can only return or deny it."""
    require(actor, "pool.file_claim")
    with transaction.atomic():
        claim = _locked(claim)
        if getattr(actor, "bank_id", None) != claim.bank_id:
            raise PermissionDenied("pool.not_own_claim", _("只能修改本行的补偿申请"))
        if claim.status not in ("submitted", "returned"):
            raise Conflict("pool.evidence_closed", _("只有办理中的申请可以补充证明材料"), field="status",
                           value=claim.status)
        if not evidence.strip():
            raise ValidationFailed("pool.evidence_required", _("请填写证明材料说明"), field="evidence")
        before = audit.snapshot(claim)
        claim.evidence = evidence.strip()
        claim.save(update_fields=["evidence"])
        audit.record(actor, "pool.add_evidence", claim, before=before)
    return claim


def _assess(loan: rules.Loan, npl: rules.Npl, today) -> rules.Assessed:
    """A claim's assessment: eligibility by today's parameters, the ratio fixed at registration (the table in
    force on the loan's registration day, or a re-pricing the bureau recorded)."""
    params = selectors.params_on(today)
    entries = selectors.registry_for([loan.borrower_id, loan.owner_of])
    onboarded = selectors.BankDays(registry.banks().filter(code=loan.bank_code)).onboarded(loan.bank_code,
                                                                                     loan.registered_date)
    pricing = None
    if loan.registered_date is not None:
        pricing = selectors.pricing_of(loan)
    return rules.assess(loan, npl, entries, onboarded, params, pricing)


def _locked(claim) -> Claim:
    return Claim.objects.select_for_update().select_related("bank", "loan").get(pk=claim.pk)


def resubmit(actor, claim: Claim, data: ClaimInput) -> Claim:
    """A claim returned for repair, filed again by its bank with corrected amounts or evidence."""
    require(actor, "pool.file_claim")
    with transaction.atomic():
        claim = _locked(claim)
        if getattr(actor, "bank_id", None) != claim.bank_id:
            raise PermissionDenied("pool.not_own_claim", _("只能修改本行的补偿申请"))
        if claim.status != Claim.Status.RETURNED:
            raise Conflict("pool.not_returned", _("只有退回补正的申请可以重新提交"), field="status", value=claim.status)
        before = audit.snapshot(claim)
        outstanding = data.outstanding_fen if data.outstanding_fen is not None else claim.outstanding_fen
        recovered = data.recovered_fen if data.recovered_fen is not None else claim.recovered_fen
        rule_loan = selectors.as_rule_loan(claim.loan, claim.bank.code)
        rule_npl = rules.Npl(claim.bank.code, claim.loan.loan_no, claim.npl_date, outstanding, recovered)
        errors = rules.check_npl(rule_npl, rule_loan)
        if errors:
            raise InvalidFields(errors)
        assessed = _assess(rule_loan, rule_npl, clock.today())
        claim.outstanding_fen, claim.recovered_fen = outstanding, recovered
        claim.loss_fen, claim.ratio, claim.compensation_fen = assessed.loss_fen, assessed.ratio, assessed.compensation_fen
        claim.reason = assessed.reason or ""
        claim.evidence = data.evidence or claim.evidence
        claim.status, claim.outcome, claim.reviewed_by, claim.reviewed_at = Claim.Status.SUBMITTED, "", None, None
        claim.save()
        audit.record(actor, "pool.resubmit", claim, before=before)
    return claim


OUTCOME_REASONS = rules.OUTCOME_REASONS


def review(actor, claim: Claim, outcome: str, *, amount_fen: int | None = None, reason: str = "",
           note: str = "") -> Claim:
    """The first person's decision on a submitted claim: approve in full, in part (an amount below the
    compensation, with a reason), deny (with a reason), or return it for repair (with a reason). A return
    goes back to the bank at once; the others wait for a second person (``decide``)."""
    require(actor, "pool.review")
    with transaction.atomic():
        claim = _locked(claim)
        if claim.status != Claim.Status.SUBMITTED:
            raise Conflict("pool.not_submitted", _("只有已提交的申请可以审核"), field="status", value=claim.status)
        errors = []
        if outcome not in Claim.Outcome.values:
            errors.append(ValidationFailed("pool.outcome", _("审核结果须为全额补偿、部分补偿、不予补偿或退回补正"),
                                           field="outcome", value=outcome))
        if outcome in ("partial", "deny", "return") and reason not in OUTCOME_REASONS:
            errors.append(ValidationFailed("pool.outcome_reason", _("部分补偿、不予补偿和退回补正须选择原因"),
                                           field="reason", value=reason))
        if outcome == "approve" and claim.reason:
            errors.append(ValidationFailed("pool.approve_ineligible", _("该申请不符合条件（%(reason)s），不能全额补偿"),
                                           field="outcome", value=outcome, reason=OUTCOME_REASONS[claim.reason]))
        if outcome in ("approve", "partial") and claim.awaiting_evidence:
            errors.append(ValidationFailed("pool.evidence_missing",
                                           _("该申请尚未提供证明材料，银行补充之前只能退回补正或不予补偿"),
                                           field="outcome", value=outcome))
        if outcome == "partial" and (amount_fen is None or not 0 < amount_fen < claim.compensation_fen):
            errors.append(ValidationFailed("pool.partial_amount", _("部分补偿金额须大于零且小于应补偿金额"),
                                           field="amount", value=amount_fen))
        if errors:
            raise InvalidFields(errors)
        before = audit.snapshot(claim)
        claim.outcome, claim.reviewed_by, claim.reviewed_at = outcome, actor, clock.now()
        claim.reason = reason if outcome != "approve" else ""
        claim.approved_fen = {"approve": claim.compensation_fen, "partial": amount_fen or 0}.get(outcome, 0)
        claim.status = Claim.Status.RETURNED if outcome == "return" else Claim.Status.REVIEWED
        claim.save()
        audit.record(actor, "pool.review", claim, before=before, note=note)
    return claim


def decide(actor, claim: Claim, agree: bool, note: str = "") -> Claim:
    """The second person's decision on a reviewed claim (never the reviewer's own): agreeing approves it
    (paid at once in approval order, as far as the balance goes) or denies it; disagreeing sends it back
    to review."""
    require(actor, "pool.approve")
    with transaction.atomic():
        claim = _locked(claim)
        if claim.status != Claim.Status.REVIEWED:
            raise Conflict("pool.not_reviewed", _("只有已审核的申请可以审批"), field="status", value=claim.status)
        if claim.reviewed_by_id == actor.pk:
            raise PermissionDenied("pool.own_review", _("不能审批自己审核的申请：须由另一位工作人员审批"))
        before = audit.snapshot(claim)
        if not agree:
            claim.status, claim.outcome, claim.reviewed_by, claim.reviewed_at = (Claim.Status.SUBMITTED, "", None,
                                                                                None)
            claim.approved_fen = 0
            claim.save()
            audit.record(actor, "pool.send_back", claim, before=before, note=note)
            return claim
        claim.decided_by, claim.decided_at = actor, clock.now()
        if claim.outcome == "deny":
            claim.status = Claim.Status.DENIED
            claim.save()
            audit.record(actor, "pool.deny", claim, before=before, note=note)
            return claim
        _pool_lock()
        claim.status = Claim.Status.APPROVED
        claim.approval_seq = (Claim.objects.aggregate(m=Max("approval_seq"))["m"] or 0) + 1
        claim.save()
        audit.record(actor, "pool.approve", claim, before=before, note=note)
        _pay_owed(actor, clock.today())  # in approval order: what earlier claims are still owed comes first
        claim.refresh_from_db()
    return claim


def report_recovery(actor, claim: Claim, recovery_fen: int, on=None, note: str = "") -> PoolEntry | None:
    """A recovery on a paid claim sends ``recovery × ratio`` back to the pool (half-up), never making the
    claim's returns more than it was paid."""
    require(actor, "pool.report_recovery")
    with transaction.atomic():
        claim = _locked(claim)
        if getattr(actor, "role", None) == "bank" and actor.bank_id != claim.bank_id:
            raise PermissionDenied("pool.not_own_claim", _("只能报告本行补偿申请的追偿"))
        if isinstance(recovery_fen, bool) or not isinstance(recovery_fen, int) or recovery_fen <= 0:
            raise ValidationFailed("pool.recovery_amount", _("追偿金额必须大于零"), field="recovery", value=recovery_fen)
        if claim.paid_fen <= 0:
            raise Conflict("pool.recovery_unpaid", _("该申请尚未拨付，追偿金额请在补正或审核时扣减"), field="recovery")
        _pool_lock()
        amount = rules.recovery_return_fen(recovery_fen, claim.ratio, claim.paid_fen - claim.clawed_back_fen,
                                           claim.returned_fen)
        if amount <= 0:
            return None
        before = audit.snapshot(claim)
        entry = _entry(actor, "recovery_return", amount, on or clock.today(), claim=claim, note=note)
        claim.returned_fen += amount
        claim.save(update_fields=["returned_fen"])
        audit.record(actor, "pool.recovery", claim, before=before, note=note)
        _pay_owed(actor, on or clock.today())
    return entry


def claw_back(actor, claim: Claim, amount_fen: int, reason: str, *, repaid: bool, on=None) -> Claim:
    """A claim later found non-compliant: ``amount_fen`` of what it was paid returns to the pool, at once
    when the bank repays it, else offset against the bank's next payments. Never more than it was paid
    (less what recoveries already returned)."""
    require(actor, "pool.claw_back")
    with transaction.atomic():
        claim = _locked(claim)
        left = claim.paid_fen - claim.returned_fen - claim.clawed_back_fen
        errors = []
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen <= left:
            errors.append(ValidationFailed("pool.clawback_above_paid",
                                           _("追回金额须大于零且不超过已拨付未返还的 %(left)s 元"),
                                           field="amount", value=amount_fen, left=rules.fen_str(max(left, 0))))
        if not reason.strip():
            errors.append(ValidationFailed("pool.clawback_reason", _("须写明追回原因（审计发现）"), field="reason"))
        if errors:
            raise InvalidFields(errors)
        _pool_lock()
        before = audit.snapshot(claim)
        claim.clawed_back_fen += amount_fen
        claim.save(update_fields=["clawed_back_fen"])
        audit.record(actor, "pool.claw_back", claim, before=before, note=reason)
        if repaid:
            _settle_clawback(actor, claim, amount_fen, on or clock.today(), "clawback")
            _pay_owed(actor, on or clock.today())
    return claim


# --------------------------------------------------------------------------------------------------
# Registration (入库)


# Up to this many new loans, a page registers them as it opens; more go to a background job.
REGISTER_CHUNK = 20_000


def unregistered():
    """Ledger loans with a registration day that the pool has not registered yet."""
    return lending.loans().filter(registered_date__isnull=False, pool_registration__isnull=True)


def register_loans(actor=None, progress=None) -> dict:
    """Register every loan the ledger holds with a registration day and the pool has not yet: screened then
    (bank onboarded that day, principal, borrower, excluded industries: ``rules.screen``) with the reason
    when it is not covered, its ratio, cap and winning row fixed by the table in force that day
    (``rules.loan_ratio``). Set-based (``rules_columnar.registration`` over every new loan at once, one bulk
    insert) and in one transaction, under a lock that keeps a second registration waiting. Idempotent: a
    loan is registered once; a later correction of the ledger row does not re-price it."""
    from huiqi.core.bulk import insert_columns

    from . import rules_columnar
    from .models import Registration

    with transaction.atomic():
        _registration_lock()
        inputs = selectors.registration_inputs(unregistered())
        total = inputs.loans.height
        if progress:
            progress(0, total)
        if not total:
            return {"registered": 0, "covered": 0}
        import polars as pl

        out = rules_columnar.registration(inputs.loans, inputs.tables)
        covered = out["reason"].null_count()
        insert_columns(Registration, {
            "loan": out["loan_id"],
            "registered_date": out["registered_date"],
            "ratio": out.select(rules_columnar.e4_text("ratio_e4"))["ratio_e4"],
            "cap": out.select(rules_columnar.e4_text("cap_e4"))["cap_e4"],
            "row": out["row"],
            "reason": out["reason"].fill_null(""),
            "repriced_at": pl.Series([None] * total, dtype=pl.Datetime),
            "created_at": [_db_now()] * total,
        })
        audit.record(actor, "pool.register", model="pool.Registration", object_id="",
                     object_repr=f"{total} / {covered}", note=f"registered {total}, covered {covered}")
    if progress:
        progress(total, total)
    return {"registered": total, "covered": covered}


def _registration_lock() -> None:
    """One registration at a time (PostgreSQL): a second waits for the first to commit, then finds its loans
    registered. Readers of the registrations are not held up. SQLite allows one writer anyway."""
    from django.db import connection

    from .models import Registration

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(Registration._meta.db_table)} "
                           "IN SHARE ROW EXCLUSIVE MODE")


def _db_now():
    """Now, as the database backend takes a datetime in a raw row (naive UTC text on SQLite)."""
    from django.db import connection

    now = clock.now()
    return connection.ops.adapt_datetimefield_value(now) if connection.vendor == "sqlite" else now


def start_registration(actor):
    """Queue the registration of what the ledger added (one such job at a time)."""
    from huiqi.core import jobs
    from huiqi.core.models import Job

    waiting = Job.objects.filter(kind="pool.register", status__in=["pending", "running"]).first()
    return waiting or jobs.enqueue("pool.register", {}, user=actor, title=str(_("风险补偿资金池：贷款入库筛查")))


# --------------------------------------------------------------------------------------------------
# Five-tier classification (五级分类)


# The spellings a file or the API may give a tier in, besides its Chinese and English names.
TIER_SPELLINGS = {"normal": "normal", "special_mention": "special_mention", "substandard": "substandard",
                  "doubtful": "doubtful", "loss": "loss", "1": "normal", "2": "special_mention",
                  "3": "substandard", "4": "doubtful", "5": "loss"}


def tier_parser():
    """A tier as a file cell or the API gives it: 正常/关注/次级/可疑/损失, the codes, their English names,
    or 1–5."""
    from huiqi.core.tabular import parse_choice

    from .models import Classification

    return parse_choice(TIER_SPELLINGS, dict(Classification.Tier.choices))


@dataclass(frozen=True)
class ClassificationInput:
    """A bank's classification of one of its loans on a day, as the API gives it (the tier as written)."""

    bank_code: str
    loan_no: str
    on: dt.date
    tier: str


class ClassificationCheck:
    """The rules of a reported classification, for a file's rows and the API's items alike: the bank is
    known and the reporter's own (a bank's staff report only their bank's loans), the loan is in its
    ledger, the day is not before the loan started nor after today."""

    def __init__(self, actor):
        require(actor, "pool.report_classification", allow_system=True)
        self.own_bank = actor.bank_id if getattr(actor, "role", None) == "bank" else None
        self.banks = dict(registry.banks().values_list("code", "id"))
        self.loans: dict[tuple[int, str], tuple[int, dt.date]] = {}
        self.today = clock.today()

    def read(self, keys) -> None:
        """Read the loans these (bank code, loan number) pairs name, 5,000 at a time."""
        wanted: dict[int, set[str]] = {}
        for code, no in keys:
            bank_id = self.banks.get(code)
            if bank_id is not None and no and (bank_id, no) not in self.loans:
                wanted.setdefault(bank_id, set()).add(no)
        for bank_id, numbers in wanted.items():
            numbers = sorted(numbers)
            for i in range(0, len(numbers), 5000):
                for pk, no, start in lending.loans().filter(bank_id=bank_id, loan_no__in=numbers[i:i + 5000]) \
                        .values_list("id", "loan_no", "start_date"):
                    self.loans[(bank_id, no)] = (pk, start)

    def errors(self, bank_code, loan_no, on) -> list[ValidationFailed]:
        """What is wrong with one item (a value that did not parse is None and has its own error)."""
        if bank_code is None:
            return []
        bank_id = self.banks.get(bank_code)
        if bank_id is None:
            return [ValidationFailed("pool.bank_unknown", _("未知的银行机构代码 %(code_text)s"), field="bank_code",
                                     value=bank_code, code_text=bank_code)]
        if self.own_bank is not None and bank_id != self.own_bank:
            return [ValidationFailed("pool.bank_not_own", _("只能报送本行的数据，%(code_text)s 不是本行"),
                                     field="bank_code", value=bank_code, code_text=bank_code)]
        if loan_no is None:
            return []
        loan = self.loans.get((bank_id, loan_no))
        if loan is None:
            return [ValidationFailed("pool.loan_unknown", _("该行没有贷款合同编号为 %(loan_no)s 的贷款，请先报送贷款台账"),
                                     field="loan_no", value=loan_no, loan_no=loan_no)]
        out = []
        if on is not None and on < loan[1]:
            out.append(ValidationFailed("pool.classified_before_start", _("分类日期不能早于放款日期 %(start)s"),
                                        field="on", value=on.isoformat(), start=loan[1].isoformat()))
        if on is not None and on > self.today:
            out.append(ValidationFailed("pool.classified_in_future", _("分类日期不能晚于今天（%(today)s）"),
                                        field="on", value=on.isoformat(), today=self.today.isoformat()))
        return out

    def loan_id(self, bank_code: str, loan_no: str) -> int:
        return self.loans[(self.banks[bank_code], loan_no)][0]


def store_classifications(actor, rows: list[dict], record=None) -> tuple[int, int]:
    """Write checked classifications (``loan_id``, ``on``, ``tier``): a new (loan, day) is added to the
    history, a different tier for a day already reported replaces it (audited before and after), the same
    again changes nothing. ``record``: the file they came from. Returns (created, updated)."""
    from huiqi.core import uploads

    from .models import Classification

    now = clock.now()
    existing = {}
    ids = sorted({r["loan_id"] for r in rows})
    for i in range(0, len(ids), 5000):
        for v in Classification.objects.filter(loan_id__in=ids[i:i + 5000]).values("id", "loan_id", "on", "tier"):
            existing[(v.pop("loan_id"), v.pop("on"))] = v
    with transaction.atomic():
        if record is not None:
            created, updated = uploads.upsert(Classification, rows, ("loan_id", "on"), ("tier",), existing, actor,
                                              record, extra={"upload_id": record.pk, "reported_at": now})
            if created or updated:
                audit.record(actor, "import", record, after={"kind": record.kind, "file": record.file_name,
                                                             "digest": record.digest, "created": created,
                                                             "updated": updated})
            return created, updated
        new, changed = [], []
        for r in rows:
            old = existing.get((r["loan_id"], r["on"]))
            if old is None:
                new.append(Classification(loan_id=r["loan_id"], on=r["on"], tier=r["tier"], reported_at=now))
            elif old["tier"] != r["tier"]:
                obj = Classification(id=old["id"], loan_id=r["loan_id"], on=r["on"], tier=r["tier"], reported_at=now)
                changed.append((obj, {"tier": old["tier"]}, {"tier": r["tier"]}))
        Classification.objects.bulk_create(new, batch_size=2000)
        if changed:
            Classification.objects.bulk_update([c[0] for c in changed], ["tier", "reported_at"], batch_size=500)
            audit.record_each(actor, "update", changed)
        if new or changed:
            audit.record(actor, "pool.classify", model="pool.Classification", object_id="",
                         object_repr=f"{len(new)} / {len(changed)}",
                         after={"created": len(new), "updated": len(changed),
                                "unchanged": len(rows) - len(new) - len(changed)})
    return len(new), len(changed)


def report_classifications(actor, items: list[ClassificationInput]) -> dict:
    """A bank's system reports classifications of its loans (the API): every item checked, every error
    named at once (``classifications[i].field``), nothing stored unless all pass; the same again changes
    nothing. Returns the counts."""
    check = ClassificationCheck(actor)
    check.read((i.bank_code, i.loan_no) for i in items)
    parse, tiers, errors, seen = tier_parser(), [], [], {}
    for n, item in enumerate(items):
        found = check.errors(item.bank_code, item.loan_no, item.on)
        try:
            tiers.append(parse(item.tier))
        except DomainError as exc:
            found.append(ValidationFailed(exc.code, exc.msgid, field="tier", value=item.tier, **exc.params))
        key = (item.bank_code, item.loan_no, item.on)
        if not found and key in seen:
            found = [ValidationFailed("pool.classification_repeated", _("与第 %(first)s 项重复（同一贷款同一日期）"),
                                      field="on", value=item.on.isoformat(), first=seen[key])]
        seen.setdefault(key, n)
        for e in found:
            e.field = f"classifications[{n}].{e.field}"
        errors += found
    if errors:
        raise InvalidFields(errors)
    rows = [{"loan_id": check.loan_id(i.bank_code, i.loan_no), "on": i.on, "tier": tier}
            for i, tier in zip(items, tiers)]
    created, updated = store_classifications(actor, rows)
    return {"created": created, "updated": updated, "unchanged": len(rows) - created - updated}


# --------------------------------------------------------------------------------------------------
# The report's PDF


def start_report_pdf(actor, on):
    """Queue the pool's report at ``on`` as a PDF, in the actor's language, in a background job (a CJK PDF
    takes seconds); the job reads the figures as the actor again. Returns the job."""
    from django.utils import translation

    from huiqi.core import jobs

    from . import report
    from .jobs import REPORT_KIND

    require(actor, "pool.view")
    bank = getattr(actor, "bank", None) if not actor.has_perm("pool.view_all") else None
    return jobs.enqueue(REPORT_KIND, {"on": on.isoformat(), "language": translation.get_language()}, user=actor,
                        title=f"{report.title_for(on, bank.name if bank is not None else None)} PDF")


# --------------------------------------------------------------------------------------------------
# Deliberate re-pricing: a registration keeps the terms it was registered under unless the bureau re-prices
# a set of loans on purpose, proposed by one person and approved by another (the ratios are money, as on
# the parameters page), then applied in a job.

REPRICE_KIND = "pool.reprice"
RATIO_PLACES = Decimal("0.0001")


def propose_repricing(actor, chosen: selectors.RepricingSet, note: str):
    """Propose re-pricing the set under the table in force on ``chosen.table_on``, with its preview today.
    Refused when the reason is blank or nothing would change."""
    from .models import Repricing

    require(actor, "pool.reprice")
    errors = []
    if not note.strip():
        errors.append(ValidationFailed("pool.reprice_note", _("须写明重新定价的原因"), field="note"))
    if chosen.registered_from and chosen.registered_to and chosen.registered_to < chosen.registered_from:
        errors.append(ValidationFailed("pool.reprice_dates", _("入库日期止早于入库日期起"), field="registered_to",
                                       value=chosen.registered_to.isoformat()))
    if errors:
        raise InvalidFields(errors)
    preview = selectors.repricing_preview(actor, chosen, clock.today(), sample=0)
    if not preview["changed"]:
        raise ValidationFailed("pool.reprice_nothing", _("按所选比例表，所选贷款的补偿比例和上限都没有变化，无需重新定价"),
                               field="table_on", value=chosen.table_on.isoformat())
    with transaction.atomic():
        repricing = Repricing.objects.create(
            bank_id=chosen.bank_id, registered_from=chosen.registered_from, registered_to=chosen.registered_to,
            product=chosen.product, table_on=chosen.table_on, note=note.strip(), proposed_by=actor,
            matched=preview["matched"], changed=preview["changed"],
            liability_before_fen=preview["liability_before_fen"], liability_after_fen=preview["liability_after_fen"])
        audit.record(actor, "pool.reprice_propose", repricing, note=note)
    return repricing


def _proposed(repricing_pk: int):
    from huiqi.core.errors import NotFound

    from .models import Repricing

    repricing = Repricing.objects.select_for_update().filter(pk=repricing_pk).first()
    if repricing is None:
        raise NotFound("pool.reprice_missing", _("没有这项重新定价"))
    if repricing.status != Repricing.Status.PROPOSED:
        raise Conflict("pool.reprice_decided", _("这项重新定价已经审批过"), field="status", value=repricing.status)
    return repricing


def approve_repricing(actor, repricing_pk: int, note: str = ""):
    """A second person approves a proposed re-pricing (never its proposer): it is applied in a background
    job. Returns the job."""
    from huiqi.core import jobs

    require(actor, "pool.reprice")
    with transaction.atomic():
        repricing = _proposed(repricing_pk)
        if repricing.proposed_by_id == actor.pk:
            raise PermissionDenied("pool.reprice_own", _("不能审批自己提出的重新定价：须由另一位工作人员审批"))
        before = audit.snapshot(repricing)
        repricing.status, repricing.decided_by, repricing.decided_at = "approved", actor, clock.now()
        repricing.save()
        audit.record(actor, "pool.reprice_approve", repricing, before=before, note=note)
        return jobs.enqueue(REPRICE_KIND, {"repricing": repricing.pk}, user=actor,
                            title=str(_("风险补偿资金池：重新定价 #%(pk)s") % {"pk": repricing.pk}))


def reject_repricing(actor, repricing_pk: int, note: str = ""):
    """A second person rejects a proposed re-pricing: nothing changes."""
    require(actor, "pool.reprice")
    with transaction.atomic():
        repricing = _proposed(repricing_pk)
        if repricing.proposed_by_id == actor.pk:
            raise PermissionDenied("pool.reprice_own", _("不能审批自己提出的重新定价：须由另一位工作人员审批"))
        before = audit.snapshot(repricing)
        repricing.status, repricing.decided_by, repricing.decided_at = "rejected", actor, clock.now()
        repricing.save()
        audit.record(actor, "pool.reprice_reject", repricing, before=before, note=note)
    return repricing


def apply_repricing(actor, repricing_pk: int, progress=None) -> int:
    """Apply an approved re-pricing: every registration of its set whose ratio or cap differs under the
    table takes the table's (and the row that won), ``repriced_at`` set, one audit record each (before and after). Claims already
    filed keep the ratio they were assessed at. Returns how many registrations changed."""
    from .models import Registration, Repricing

    with transaction.atomic():
        repricing = Repricing.objects.select_for_update().get(pk=repricing_pk)
        if repricing.status != Repricing.Status.APPROVED:
            raise Conflict("pool.reprice_not_approved", _("只有已批准的重新定价可以执行"), field="status",
                           value=repricing.status)
        now = clock.now()
        changes = [r for r in selectors.repricing_changes(selectors.RepricingSet.of(repricing), clock.today())
                   if r.changed]
        done = 0
        for i in range(0, len(changes), 2000):
            part = changes[i:i + 2000]
            found = Registration.objects.select_related("loan", "loan__bank").in_bulk([r.registration_id for r in part])
            # Set-based: one UPDATE per distinct new terms (a table has few rows), not one per loan.
            terms: dict[tuple, list[int]] = {}
            trail = []
            for r in part:
                reg = found[r.registration_id]
                before = audit.snapshot(reg)
                # As the column holds them (four places), so the audit's "after" is what is stored.
                reg.ratio, reg.cap = r.after.ratio.quantize(RATIO_PLACES), r.after.cap.quantize(RATIO_PLACES)
                reg.row, reg.repriced_at = r.after.row, now
                terms.setdefault((reg.ratio, reg.cap, reg.row), []).append(reg.pk)
                trail.append((reg, before, audit.snapshot(reg)))
            for (ratio, cap, row), ids in terms.items():
                Registration.objects.filter(pk__in=ids).update(ratio=ratio, cap=cap, row=row, repriced_at=now)
            audit.record_each(actor, "pool.reprice", trail, note=f"#{repricing.pk} {repricing.note}")
            done += len(part)
            if progress:
                progress(done, len(changes))
        before = audit.snapshot(repricing)
        repricing.status, repricing.applied, repricing.applied_at = "applied", done, now
        repricing.save()
        audit.record(actor, "pool.reprice_apply", repricing, before=before)
    return done
