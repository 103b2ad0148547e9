"""Ledger REST endpoints: a bank's system pushes files (with an idempotency key) and reads its loans."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, parsers, permissions, serializers, viewsets
from rest_framework.response import Response

from huiqi.core.api import ShownField
from huiqi.core.errors import DomainError

from . import imports, selectors
from .filters import LoanFilter
from .models import LedgerUpload, Loan


class LoanSerializer(serializers.ModelSerializer):
    bank_code = serializers.CharField(source="bank.code", read_only=True)
    principal = serializers.DecimalField(max_digits=20, decimal_places=2, read_only=True)
    borrower_id = serializers.SerializerMethodField()

    class Meta:
        model = Loan
        fields = ["bank_code", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
                  "guarantee", "first_loan", "principal", "annual_rate", "start_date", "maturity_date",
                  "extension_of", "registered_date", "updated_at"]

    def get_borrower_id(self, obj) -> str:
        # A person's resident ID is shown masked; USCCs are public registrations.
        return Loan.AUDIT_MASK["borrower_id"](obj.borrower_id)


class LoanViewSet(viewsets.ReadOnlyModelViewSet):
    """Loans the caller may see (a bank: its own)."""

    serializer_class = LoanSerializer
    filterset_class = LoanFilter

    def get_queryset(self):
        return selectors.loans_for(self.request.user)


class LedgerUploadSerializer(serializers.ModelSerializer):
    bank_code = serializers.CharField(source="bank.code", read_only=True, allow_null=True)
    message = ShownField()

    class Meta:
        model = LedgerUpload
        fields = ["id", "kind", "bank_code", "file_name", "digest", "status", "rows_total", "rows_created",
                  "rows_updated", "rows_unchanged", "error_count", "message", "unknown_columns", "job",
                  "idempotency_key", "uploaded_at", "finished_at"]


class LedgerUploadRequest(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LedgerUpload.Kind.choices)
    file = serializers.FileField()


class CanUpload(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm("lending.upload")


class LedgerUploadViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Send a loans / payments / npl / banks file. The whole file is stored or refused; a repeated
    `Idempotency-Key` header returns the first upload's outcome without storing anything again."""

    serializer_class = LedgerUploadSerializer
    parser_classes = [parsers.MultiPartParser]
    permission_classes = [permissions.IsAuthenticated, CanUpload]

    def get_queryset(self):
        return selectors.uploads_for(self.request.user).select_related("bank")

    @extend_schema(request={"multipart/form-data": LedgerUploadRequest}, responses={201: LedgerUploadSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER)])
    def create(self, request, *args, **kwargs):
        ser = LedgerUploadRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        record = imports.start_upload(request.user, ser.validated_data["kind"], ser.validated_data["file"],
                                      idempotency_key=request.headers.get("Idempotency-Key", "")[:100])
        body = LedgerUploadSerializer(record).data
        if record.status == "refused":
            from huiqi.core.uploads import read_errors

            body["errors"] = read_errors(record, limit=1000)
            refused = DomainError("upload.refused", _("文件有错误，整个文件未入库"))
            return Response({"error": refused.as_dict(), "upload": body}, status=422)
        return Response(body, status=201)
