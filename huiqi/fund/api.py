"""The fund's REST endpoints: a channel's system registers applications and reads its own; an enterprise
reads its own; the bureau reads every application. Amounts are decimal strings in 元, never floats."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, permissions, serializers, viewsets
from rest_framework.response import Response

from huiqi.core.api import ShownField
from huiqi.core.errors import DomainError
from huiqi.core.money import fen_to_yuan, yuan_to_fen

from . import imports, selectors, services
from .models import Application, StatusUpload


def _yuan(fen) -> str | None:
    return None if fen is None else str(fen_to_yuan(fen))


class ApplicationSerializer(serializers.ModelSerializer):
    requested = serializers.SerializerMethodField()
    approved = serializers.SerializerMethodField()
    disbursed = serializers.SerializerMethodField()
    rate = serializers.DecimalField(max_digits=9, decimal_places=6, read_only=True)

    class Meta:
        model = Application
        fields = ["id", "number", "uscc", "channel", "received_date", "term_months", "state", "reasons", "priority",
                  "requested", "approved", "capped", "rate", "decision_term_months", "decided_on", "contract_date",
                  "maturity_date", "disbursed", "transferred_from"]

    def get_requested(self, obj) -> str:
        return _yuan(obj.requested_fen)

    def get_approved(self, obj) -> str | None:
        return _yuan(obj.approved_fen)

    def get_disbursed(self, obj) -> str:
        return _yuan(obj.disbursed_fen)


class ApplicationRequest(serializers.Serializer):
    uscc = serializers.CharField(max_length=30)
    channel = serializers.CharField(max_length=10)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    term_months = serializers.IntegerField()
    received_date = serializers.DateField()
    impact = serializers.CharField(max_length=2000, allow_blank=True)
    purpose = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ApplicationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Applications the caller may see (a channel: its own; an enterprise: its own). A channel registers one
    by POST: refused whole, naming each bad field, or with ``live_application_exists``."""

    serializer_class = ApplicationSerializer

    def get_queryset(self):
        return selectors.applications_for(self.request.user).order_by("-received_date", "-id")

    @extend_schema(request=ApplicationRequest, responses={201: ApplicationSerializer})
    def create(self, request, *args, **kwargs):
        ser = ApplicationRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        app = services.register(request.user, services.ApplicationInput(
            uscc=d["uscc"], channel=d["channel"], requested_fen=yuan_to_fen(d["amount"]),
            term_months=d["term_months"], received_date=d["received_date"], impact=d["impact"],
            purpose=d.get("purpose", ""), source=Application.Source.API))
        return Response(ApplicationSerializer(app).data, status=201)


class StatusUploadSerializer(serializers.ModelSerializer):
    institution_code = serializers.CharField(source="institution.code", read_only=True, allow_null=True)
    message = ShownField()

    class Meta:
        model = StatusUpload
        fields = ["id", "kind", "institution_code", "file_name", "digest", "status", "rows_total", "rows_created",
                  "rows_unchanged", "error_count", "message", "unknown_columns", "job", "uploaded_at",
                  "finished_at"]


class ApplicationFileSerializer(StatusUploadSerializer):
    """A registration file with the numbers of the applications it registered (those the caller may see)."""

    applications = serializers.SerializerMethodField()

    class Meta(StatusUploadSerializer.Meta):
        fields = [*StatusUploadSerializer.Meta.fields, "applications"]

    def get_applications(self, obj) -> list[str]:
        return list(selectors.applications_of_upload(self.context["request"].user, obj)
                    .values_list("number", flat=True))


class StatusUploadRequest(serializers.Serializer):
    file = serializers.FileField()


class CanSendFile(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm(imports.KINDS[view.kind].permission)


class StatusUploadViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A channel's status file (tranches, repayments, extensions, closes by application number), the same
    file as the upload page takes: stored whole, or refused with every bad row (422)."""

    kind = StatusUpload.Kind.STATUS
    serializer_class = StatusUploadSerializer
    # One file read or just sent (the list stays the plain one: it would read every file's rows).
    detail_serializer_class = StatusUploadSerializer
    parser_classes = [parsers.MultiPartParser]
    permission_classes = [permissions.IsAuthenticated, CanSendFile]

    def get_queryset(self):
        return selectors.status_uploads_for(self.request.user, self.kind)

    def get_serializer_class(self):
        return self.detail_serializer_class if self.action == "retrieve" else self.serializer_class

    @extend_schema(request={"multipart/form-data": StatusUploadRequest}, responses={201: StatusUploadSerializer})
    def create(self, request, *args, **kwargs):
        ser = StatusUploadRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        record = imports.start_upload(request.user, ser.validated_data["file"], kind=self.kind)
        body = self.detail_serializer_class(record, context=self.get_serializer_context()).data
        if record.status == "refused":
            from huiqi.core.uploads import read_errors

            body["errors"] = read_errors(record, limit=1000)
            refused = DomainError("upload.refused", _("文件有错误，整个文件未入库"))
            return Response({"error": refused.as_dict(), "upload": body}, status=422)
        return Response(body, status=201)


class ApplicationFileViewSet(StatusUploadViewSet):
    """A channel's file of the applications it received (申请登记), each row registered as the page does (the
    channel is the sender's institution): stored whole, or refused with every bad row (422). One file read,
    or just sent, names the applications it registered (``applications``: their numbers)."""

    kind = StatusUpload.Kind.APPLICATIONS
    detail_serializer_class = ApplicationFileSerializer

    @extend_schema(request={"multipart/form-data": StatusUploadRequest},
                   responses={201: ApplicationFileSerializer})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)
