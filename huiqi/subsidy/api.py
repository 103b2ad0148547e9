"""Interest-subsidy REST endpoints: batches (read; run, review, approve, release, cancel, reconcile for
the bureau), reconciliation files (read; confirm, send back), beneficiary payments and loan lines, each
scoped by ``selectors``.

Money is a decimal string in 元 ("1234.56"), never a JSON number; a person's resident ID is masked.
Refusals of the services come back in the one error body of ``core.api``.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from huiqi.core.api_views import JobSerializer
from huiqi.core.i18n import EN, ZH, render
from huiqi.lending.selectors import mask_borrower_id

from . import rules, selectors, services
from .filters import BatchFilter, LoanLineFilter, PaymentFilter
from .models import SubsidyBatch, SubsidyLoanLine, SubsidyPayment, SubsidyReconciliation

_mask = mask_borrower_id


# What a generated client must read as a decimal, never as a float: the digits of 元 with two decimals.
YUAN_SCHEMA = {"type": "string", "format": "decimal", "pattern": r"^-?\d+\.\d{2}$",
               "example": "1234.56", "description": "元，两位小数的十进制字符串 yuan as a decimal string"}


@extend_schema_field(YUAN_SCHEMA)
class YuanField(serializers.Field):
    """Whole fen shown as a decimal string in 元 (``null`` where the row has no amount: ``allow_null``)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return rules.fen_str(value)


@extend_schema_field(OpenApiTypes.STR)
class MaskedIdField(serializers.Field):
    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return _mask(value)


def _user(**kwargs):
    """Who did a step: null until someone has."""
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True, **kwargs)


class SubsidyBatchSerializer(serializers.ModelSerializer):
    created_by = _user()
    reviewed_by = _user()
    approved_by = _user()
    released_by = _user()
    cancelled_by = _user()
    due_total = YuanField(source="due_total_fen")
    payable_total = YuanField(source="payable_total_fen")
    overpayment_total = YuanField(source="overpayment_total_fen")
    spent_before = YuanField(source="spent_before_fen")
    budget_left = YuanField(source="budget_left_fen")
    unspent = YuanField(source="unspent_fen")
    files = serializers.SerializerMethodField()

    class Meta:
        model = SubsidyBatch
        fields = ["id", "cutoff", "params", "status", "created_by", "created_at", "reviewed_by",
                  "reviewed_at", "approved_by", "approved_at", "released_by", "released_at", "cancelled_by",
                  "cancelled_at", "note", "beneficiaries", "loans_counted", "due_total", "payable_total",
                  "overpayment_total", "spent_before", "budget_left", "rationing_factor", "unspent",
                  "over_budget", "files"]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_files(self, obj) -> dict[str, str]:
        """Download addresses (pages) of the result files, and of the payment file and control totals once
        released; each is written again from the record if it was lost."""
        return {name: reverse("subsidy:batch_file", args=[obj.pk, name]) for name in services.file_names(obj)}


class SubsidyPaymentSerializer(serializers.ModelSerializer):
    beneficiary_id = MaskedIdField()
    batch_cutoff = serializers.DateField(source="batch.cutoff", read_only=True)
    batch_released_at = serializers.DateTimeField(source="batch.released_at", read_only=True, allow_null=True)
    interest_counted = YuanField(source="interest_counted_fen")
    subsidy_before_cap = YuanField(source="subsidy_before_cap_fen")
    entitlement = YuanField(source="entitlement_fen")
    paid_before = YuanField(source="paid_before_fen")
    due = YuanField(source="due_fen")
    payable = YuanField(source="payable_fen")
    overpayment = YuanField(source="overpayment_fen")

    class Meta:
        model = SubsidyPayment
        fields = ["batch", "batch_cutoff", "batch_released_at", "beneficiary_id", "name", "kind",
                  "loans_counted", "interest_counted", "subsidy_before_cap", "entitlement", "paid_before",
                  "due", "payable", "overpayment", "status", "reconciled_at", "reconcile_note"]


class SubsidyLoanLineSerializer(serializers.ModelSerializer):
    bank_code = serializers.CharField(source="loan.bank.code", read_only=True)
    loan_no = serializers.CharField(source="loan.loan_no", read_only=True)
    borrower_name = serializers.CharField(source="loan.borrower_name", read_only=True)
    beneficiary_id = MaskedIdField()
    reason_zh = serializers.SerializerMethodField()
    reason_en = serializers.SerializerMethodField()
    # Null on a line that is not eligible (see ``reason``).
    interest_counted = YuanField(source="interest_counted_fen", allow_null=True)
    subsidy = YuanField(source="subsidy_fen", allow_null=True)

    class Meta:
        model = SubsidyLoanLine
        fields = ["batch", "bank_code", "loan_no", "beneficiary_id", "borrower_name", "eligible", "reason",
                  "reason_zh", "reason_en", "interest_counted", "subsidy"]

    def get_reason_zh(self, obj) -> str:
        return render(rules.REASONS.get(obj.reason, ""), language=ZH)

    def get_reason_en(self, obj) -> str:
        return render(rules.REASONS.get(obj.reason, ""), language=EN)


class SubsidyReconciliationSerializer(serializers.ModelSerializer):
    prepared_by = _user()
    decided_by = _user()
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = SubsidyReconciliation
        fields = ["id", "batch", "status", "file_name", "file_sha256", "paid", "failed", "unchanged",
                  "prepared_by", "prepared_at", "decided_by", "decided_at", "note"]


class RunRequest(serializers.Serializer):
    cutoff = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class NoteRequest(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class CancelRequest(serializers.Serializer):
    note = serializers.CharField(max_length=1000, help_text=_("作废原因（必填）"))


class ReconcileRequest(serializers.Serializer):
    file = serializers.FileField()


RunAccepted = inline_serializer("SubsidyRunAccepted", {"job": JobSerializer(),
                                                       "url": serializers.CharField()})


def _may(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


class SubsidyBatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Subsidy batches with their totals (bureau, auditors, administrators; others see none). Bureau
    staff and administrators run a batch and move it along: review, approve (by a third person),
    release (writes the payment file), cancel (with a reason), reconcile (the bank's file)."""

    serializer_class = SubsidyBatchSerializer
    filterset_class = BatchFilter

    def get_queryset(self):
        return selectors.batches_with_people(self.request.user)

    def _reply(self, batch, code=status.HTTP_200_OK):
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(SubsidyBatchSerializer(batch).data, status=code)

    @extend_schema(request=RunRequest, responses={202: RunAccepted})
    @action(detail=False, methods=["post"])
    def run(self, request):
        """Queue the computation of a batch up to ``cutoff`` with the parameters in force on it, as on the
        page: 202 with the background job (``Location``: its address under ``/api/v1/jobs/``), whose
        ``result.batch_id`` names the batch once it has succeeded."""
        _may(request, "subsidy.run")
        body = RunRequest(data=request.data)
        body.is_valid(raise_exception=True)
        job = services.start_batch_run(request.user, body.validated_data["cutoff"],
                                       note=body.validated_data.get("note", ""))
        url = reverse("job-detail", args=[job.pk])
        return Response({"job": JobSerializer(job).data, "url": url}, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": url})

    def _move(self, request, name: str, body_class):
        _may(request, f"subsidy.{name}")
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        batch = self.get_object()
        getattr(services, name)(request.user, batch, note=body.validated_data.get("note", ""))
        return self._reply(batch)

    @extend_schema(request=NoteRequest, responses=SubsidyBatchSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        """run → reviewed."""
        return self._move(request, "review", NoteRequest)

    @extend_schema(request=NoteRequest, responses=SubsidyBatchSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """reviewed → approved, by someone who neither ran nor reviewed the batch."""
        return self._move(request, "approve", NoteRequest)

    @extend_schema(request=NoteRequest, responses=SubsidyBatchSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """approved → released: the payment file (CSV, XLSX) and control totals are written."""
        return self._move(request, "release", NoteRequest)

    @extend_schema(request=CancelRequest, responses=SubsidyBatchSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """run / reviewed / approved → cancelled, with a reason."""
        return self._move(request, "cancel", CancelRequest)

    @extend_schema(request={"multipart/form-data": ReconcileRequest},
                   responses={201: SubsidyReconciliationSerializer})
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser])
    def reconcile(self, request, pk=None):
        """Upload the bank's reconciliation of a released batch (CSV/XLSX: beneficiary_id, status
        paid|failed, optional amount and note), checked whole: 201 with the file awaiting confirmation, which
        changes nothing until someone other than its uploader confirms it
        (``/subsidy-reconciliations/{id}/confirm/``). A bad file is refused with every bad row named."""
        _may(request, "subsidy.reconcile")
        body = ReconcileRequest(data=request.data)
        body.is_valid(raise_exception=True)
        rec = services.prepare_reconciliation(request.user, self.get_object(), body.validated_data["file"])
        return Response(SubsidyReconciliationSerializer(rec).data, status=status.HTTP_201_CREATED)


class SubsidyReconciliationViewSet(viewsets.ReadOnlyModelViewSet):
    """Bank reconciliation files of the batches the caller may read (bureau, auditors, administrators),
    newest first. One uploads a file (``subsidy-batches/{id}/reconcile/``); another confirms it, and only
    then is each payment paid or failed; either may send it back."""

    serializer_class = SubsidyReconciliationSerializer

    def get_queryset(self):
        return selectors.reconciliations_for(self.request.user)

    def _decide(self, request, name: str):
        _may(request, "subsidy.reconcile")
        body = NoteRequest(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data.get("note", "")
        rec = getattr(services, name)(request.user, self.get_object(), note=note)
        return Response(SubsidyReconciliationSerializer(self.get_queryset().get(pk=rec.pk)).data)

    @extend_schema(request=NoteRequest, responses=SubsidyReconciliationSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """prepared → confirmed, by someone other than the uploader: each payment the file names becomes
        paid or failed, each change audited before and after."""
        return self._decide(request, "confirm_reconciliation")

    @extend_schema(request=NoteRequest, responses=SubsidyReconciliationSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """prepared → rejected (sent back, or withdrawn by the uploader): nothing changes."""
        return self._decide(request, "reject_reconciliation")


class SubsidyLoanLineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each loan's line in the batches the caller may see: the bureau, auditors and administrators all;
    a bank its own loans and an enterprise user its own, in released batches."""

    serializer_class = SubsidyLoanLineSerializer
    filterset_class = LoanLineFilter

    def get_queryset(self):
        return selectors.loan_lines_for(self.request.user).order_by("-batch__cutoff", "batch_id",
                                                                    "loan__bank__code", "loan__loan_no")


class SubsidyPaymentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each beneficiary's payment in the batches the caller may see: the bureau, auditors and
    administrators all; an enterprise user its own enterprises', in released batches."""

    serializer_class = SubsidyPaymentSerializer
    filterset_class = PaymentFilter

    def get_queryset(self):
        return selectors.beneficiary_lines_for(self.request.user).order_by("-batch__cutoff", "batch_id",
                                                                           "beneficiary_id")
