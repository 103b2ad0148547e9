"""Interest-subsidy reads, each already scoped to the asking user.

- bureau, auditors and administrators: every batch and line;
- a bank's staff: the loan lines of its own loans, in released batches;
- an enterprise user: the loan lines of loans it may see in the ledger (its own, and those of the
  owners of its enterprises, as ``lending.selectors.scope_loans`` decides) and its own beneficiary lines,
  in released batches;
- anyone else: nothing.

Batches not yet released are the bureau's working numbers: only city-wide readers see them.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import Case, Count, F, OuterRef, QuerySet, Subquery, Sum, When

from huiqi.accounts.selectors import Role, role_of
from huiqi.core.models import AuditEvent
from huiqi.lending.selectors import BorrowerKind, loans, scope_loans
from huiqi.registry import selectors as registry_selectors

from . import rules
from .models import (
    OPEN_STATUSES,
    BatchStatus,
    PaymentStatus,
    ReconciliationStatus,
    SubsidyBatch,
    SubsidyLoanLine,
    SubsidyPayment,
    SubsidyReconciliation,
)

CITY_WIDE = {Role.BUREAU, Role.AUDITOR, Role.ADMIN}


def batches_for(user) -> QuerySet[SubsidyBatch]:
    """Batches with their totals: city-wide readers only."""
    if role_of(user) in CITY_WIDE:
        return SubsidyBatch.objects.all()
    return SubsidyBatch.objects.none()


def loan_lines_for(user, batch: SubsidyBatch | None = None) -> QuerySet[SubsidyLoanLine]:
    """Loan lines (of ``batch`` when given) the user may read."""
    role = role_of(user)
    qs = SubsidyLoanLine.objects.select_related("loan", "loan__bank", "batch")
    if batch is not None:
        qs = qs.filter(batch=batch)
    if role in CITY_WIDE:
        return qs
    if role == Role.BANK:
        return qs.filter(batch__status=BatchStatus.RELEASED, loan__bank_id=user.bank_id)
    if role == Role.ENTERPRISE:
        return qs.filter(batch__status=BatchStatus.RELEASED, loan__in=scope_loans(user, loans()))
    return qs.none()


def beneficiary_lines_for(user, batch: SubsidyBatch | None = None) -> QuerySet[SubsidyPayment]:
    """Beneficiary lines (payments) the user may read: an enterprise user its own enterprises' lines."""
    role = role_of(user)
    qs = SubsidyPayment.objects.select_related("batch")
    if batch is not None:
        qs = qs.filter(batch=batch)
    if role in CITY_WIDE:
        return qs
    if role == Role.ENTERPRISE:
        return qs.filter(batch__status=BatchStatus.RELEASED,
                         beneficiary_id__in=user.enterprises.values("uscc"))
    return qs.none()


# --------------------------------------------------------------------------------------------------
# What the pages show of a batch (the batch itself was read through ``batches_for``)

_PEOPLE = ("created_by", "reviewed_by", "approved_by", "released_by", "cancelled_by")


def batches_with_people(user) -> QuerySet[SubsidyBatch]:
    """``batches_for`` with the users of each step, for a list or a batch's page."""
    return batches_for(user).select_related(*_PEOPLE)


def batch_for(user, pk) -> SubsidyBatch | None:
    """One batch the user may read, with the users of each step; None when there is none."""
    return batches_with_people(user).filter(pk=pk).first()


def open_batch(user) -> SubsidyBatch | None:
    """The batch on its way (run, reviewed or approved) that blocks a new run, if the user may see it."""
    return batches_for(user).filter(status__in=OPEN_STATUSES).order_by("id").first()


def batches_to_review(user) -> QuerySet[SubsidyBatch]:
    """Batches run by someone else that wait for a reviewer (a batch naming no one who ran it cannot move)."""
    return (batches_for(user).filter(status=BatchStatus.RUN, created_by__isnull=False)
            .exclude(created_by_id=user.pk))


def batches_to_approve(user) -> QuerySet[SubsidyBatch]:
    """Reviewed batches that this user neither ran nor reviewed: they wait for the third person."""
    return (batches_for(user).filter(status=BatchStatus.REVIEWED, created_by__isnull=False)
            .exclude(created_by_id=user.pk).exclude(reviewed_by_id=user.pk))


def batches_to_release(user) -> QuerySet[SubsidyBatch]:
    """Approved batches waiting for their payment file."""
    return batches_for(user).filter(status=BatchStatus.APPROVED, created_by__isnull=False)


def reconciliations_to_confirm(user) -> QuerySet[SubsidyReconciliation]:
    """Bank reconciliation files uploaded by someone else that wait for a second person's confirmation."""
    return (reconciliations_for(user).filter(status=ReconciliationStatus.PREPARED)
            .exclude(prepared_by_id=user.pk))


def batches_released_since(user, since) -> QuerySet[SubsidyBatch]:
    """Batches released at or after ``since`` (an aware datetime), for an auditor's spot check."""
    return batches_for(user).filter(status=BatchStatus.RELEASED, released_at__gte=since)


def enterprise_payments(user, uscc: str) -> QuerySet[SubsidyPayment]:
    """One enterprise's beneficiary lines that the user may read (an enterprise user: in released batches)."""
    return beneficiary_lines_for(user).filter(beneficiary_id=uscc)


def payment_totals(batch: SubsidyBatch) -> dict[str, dict]:
    """Per payment status: how many beneficiaries and the fen payable (every status, zero included)."""
    totals = {s: {"n": 0, "amount": 0} for s in PaymentStatus.values}
    for r in batch.payments.order_by().values("status").annotate(n=Count("id"), amount=Sum("payable_fen")):
        totals[r["status"]] = {"n": r["n"], "amount": r["amount"] or 0}
    return totals


def reason_counts(batch: SubsidyBatch) -> Counter:
    """How many loan lines each reason left out ("" for the lines counted)."""
    return Counter(dict(batch.loan_lines.order_by().values_list("reason").annotate(n=Count("id"))))


def batch_history(batch: SubsidyBatch) -> QuerySet[AuditEvent]:
    """The audit records of a batch, oldest first: its steps, who took them and when."""
    return (AuditEvent.objects.filter(model=SubsidyBatch._meta.label, object_id=str(batch.pk))
            .order_by("at", "id"))


def batch_groups(batch: SubsidyBatch) -> dict[str, list[dict]]:
    """The batch's money by district and size class (of the beneficiary, or of the enterprise a small-
    business owner owns: the one its first loan names) and by bank, in the shape of
    ``services.compare`` with the codes as labels."""
    owned = (loans().filter(borrower_id=OuterRef("beneficiary_id"), borrower_kind=BorrowerKind.BUSINESS_OWNER)
             .exclude(owner_of="").order_by("bank__code", "loan_no").values("owner_of")[:1])
    registry = registry_selectors.enterprises().filter(uscc=OuterRef("registered_as"))
    payments = (batch.payments.order_by()
                .annotate(registered_as=Case(When(kind=BorrowerKind.BUSINESS_OWNER, then=Subquery(owned)),
                                             default=F("beneficiary_id")))
                .annotate(district=Subquery(registry.values("district_id")[:1]),
                          size=Subquery(registry.values("size_class")[:1])))

    def grouped(field, unknown):
        rows = (payments.values(field).annotate(beneficiaries=Count("id"), due_fen=Sum("due_fen"),
                                                payable_fen=Sum("payable_fen")).order_by(field))
        out: dict[str, dict] = {}
        for r in rows:
            key = r[field] or unknown
            acc = out.setdefault(key, {"beneficiaries": 0, "due_fen": 0, "payable_fen": 0})
            for k in acc:
                acc[k] += r[k] or 0
        return [{"key": k, "label": k, "a": v} for k, v in sorted(out.items())]

    banks = (batch.loan_lines.filter(eligible=True).order_by().values("loan__bank__code", "loan__bank__name")
             .annotate(loans_counted=Count("id"), subsidy_fen=Sum("subsidy_fen"))
             .order_by("loan__bank__code"))
    return {
        "by_district": grouped("district", ""),
        "by_size_class": grouped("size", "unknown"),
        "by_bank": [{"key": r["loan__bank__code"], "label": r["loan__bank__name"],
                     "a": {"loans_counted": r["loans_counted"], "subsidy_fen": r["subsidy_fen"] or 0}}
                    for r in banks],
    }


def reconciliations_for(user) -> QuerySet[SubsidyReconciliation]:
    """Bank reconciliation files of the batches the user may read (city-wide readers), newest first."""
    return (SubsidyReconciliation.objects.filter(batch__in=batches_for(user))
            .select_related("batch", "prepared_by", "decided_by").order_by("-prepared_at", "-id"))


def waiting_reconciliation(batch: SubsidyBatch) -> SubsidyReconciliation | None:
    """The batch's reconciliation file that awaits confirmation, if any (one at a time)."""
    return (SubsidyReconciliation.objects.filter(batch=batch, status=ReconciliationStatus.PREPARED)
            .select_related("prepared_by").first())


def payment_status_counts(batch: SubsidyBatch) -> dict[str, int]:
    """How many of the batch's payments are in each status (every status, zero included)."""
    counts = {s: 0 for s in PaymentStatus.values}
    counts.update(dict(batch.payments.order_by().values_list("status").annotate(n=Count("id"))))
    return counts


# --------------------------------------------------------------------------------------------------
# An enterprise's and a bank's own pages


def own_payments(user) -> QuerySet[SubsidyPayment]:
    """The beneficiary lines the user may read, newest batch first."""
    return beneficiary_lines_for(user).select_related("batch").order_by("-batch__cutoff", "-batch_id",
                                                                        "beneficiary_id")


def own_loan_lines(user) -> QuerySet[SubsidyLoanLine]:
    """The loan lines the user may read, newest batch first, then by bank and loan number."""
    return loan_lines_for(user).order_by("-batch__cutoff", "loan__bank__code", "loan__loan_no")


def batches_of(*lines: QuerySet) -> list[SubsidyBatch]:
    """The batches the given lines (already scoped) belong to, newest first."""
    ids: set[int] = set()
    for qs in lines:
        ids |= set(qs.order_by().values_list("batch_id", flat=True).distinct())
    return list(SubsidyBatch.objects.filter(pk__in=ids).order_by("-cutoff", "-id"))


def outcome_counts(lines: QuerySet[SubsidyLoanLine]) -> dict:
    """Of the given loan lines: how many, how many counted with their subsidy in fen, and how many each
    reason left out (``reasons``: (code, n) in the order of ``rules.REASONS``)."""
    out = {"loans": 0, "eligible": 0, "subsidy_fen": 0, "reasons": []}
    rows = lines.order_by().values("eligible", "reason").annotate(n=Count("id"), subsidy=Sum("subsidy_fen"))
    for r in rows:
        out["loans"] += r["n"]
        if r["eligible"]:
            out["eligible"] += r["n"]
            out["subsidy_fen"] += r["subsidy"] or 0
        else:
            out["reasons"].append((r["reason"], r["n"]))
    order = list(rules.REASONS)
    out["reasons"].sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))
    return out
