"""The producers directory's REST endpoints: the directory read-only, scoped to the caller (``?on=YYYY-MM-DD``
and ``?status=`` narrow it to a status on a day), the catalogue, and the bureau's directory file."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, parsers, permissions, serializers, viewsets
from rest_framework.response import Response

from huiqi.core import clock
from huiqi.core.api import ShownField
from huiqi.core.errors import DomainError, ValidationFailed

from . import imports, rules, selectors
from .models import DirectoryUpload, Producer, ProducerProduct, Product, Suspension


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["code", "name", "name_en", "product_class", "product_class_en", "unit", "active"]


class LineSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)

    class Meta:
        model = ProducerProduct
        fields = ["product", "unit", "capacity_per_day", "reported_from", "reported_to"]


class SuspensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suspension
        fields = ["start", "end", "reason"]


class ProducerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="enterprise.name", read_only=True)
    district = serializers.CharField(source="enterprise.district_id", read_only=True)
    status = serializers.SerializerMethodField()
    products = LineSerializer(many=True, read_only=True)
    suspensions = SuspensionSerializer(many=True, read_only=True)

    class Meta:
        model = Producer
        fields = ["id", "uscc", "name", "district", "active_from", "active_to", "removal_reason", "converted",
                  "contact_name", "contact_phone", "status", "products", "suspensions"]

    def get_status(self, obj) -> str:
        """The status on ``?on=`` (default today): one of ``rules.STATUSES``."""
        return selectors.status_of(obj, self.context.get("on") or clock.today())


def _on(request) -> dt.date:
    raw = request.query_params.get("on", "").strip()
    if not raw:
        return clock.today()
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not rules.EARLIEST <= day <= rules.LATEST:
        raise ValidationFailed("supplies.on_invalid", _("on %(given)s 须为 2000 年至 2100 年之间的日期（YYYY-MM-DD）"),
                               field="on", value=raw, given=raw)
    return day


_FILTERS = [OpenApiParameter("on", OpenApiTypes.DATE, description="the day the status is read on (default today)"),
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(rules.STATUSES),
                             description="only producers with this status on the day")]


@extend_schema_view(list=extend_schema(parameters=_FILTERS), retrieve=extend_schema(parameters=_FILTERS[:1]))
class ProducerViewSet(viewsets.ReadOnlyModelViewSet):
    """The producers directory as the caller may read it (the city's readers all, a district officer its
    district's, an enterprise its own; no one else any)."""

    serializer_class = ProducerSerializer

    def get_queryset(self):
        status = self.request.query_params.get("status", "").strip()
        if status and status not in rules.STATUSES:
            raise ValidationFailed("supplies.status_invalid", _("status %(given)s 须为 %(allowed)s 之一"),
                                   field="status", value=status, given=status, allowed=", ".join(rules.STATUSES))
        return selectors.directory(self.request.user, on=_on(self.request), status=status)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["on"] = _on(self.request)
        return context


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The catalogue of epidemic supplies (防疫物资目录), in its order: reference data for every signed-in
    caller."""

    serializer_class = ProductSerializer
    lookup_field = "code"

    def get_queryset(self):
        return selectors.products(active_only=False)


class DirectoryUploadSerializer(serializers.ModelSerializer):
    message = ShownField()

    class Meta:
        model = DirectoryUpload
        fields = ["id", "file_name", "digest", "status", "rows_total", "rows_created", "rows_updated",
                  "rows_unchanged", "error_count", "message", "unknown_columns", "job", "uploaded_at",
                  "finished_at"]


class DirectoryUploadRequest(serializers.Serializer):
    file = serializers.FileField()


class CanSendFile(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm("supplies.manage_directory")


class DirectoryUploadViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The bureau's directory file, the same file as the upload page takes: stored whole, or refused with
    every bad row (422). The city's readers read the files; the list is empty for anyone else."""

    serializer_class = DirectoryUploadSerializer
    parser_classes = [parsers.MultiPartParser]
    permission_classes = [permissions.IsAuthenticated, CanSendFile]

    def get_queryset(self):
        return selectors.uploads_for(self.request.user)

    @extend_schema(request={"multipart/form-data": DirectoryUploadRequest},
                   responses={201: DirectoryUploadSerializer})
    def create(self, request, *args, **kwargs):
        ser = DirectoryUploadRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        record = imports.start_upload(request.user, ser.validated_data["file"])
        body = DirectoryUploadSerializer(record).data
        if record.status == "refused":
            from huiqi.core.uploads import read_errors

            body["errors"] = read_errors(record, limit=1000)
            refused = DomainError("upload.refused", _("文件有错误，整个文件未入库"))
            return Response({"error": refused.as_dict(), "upload": body}, status=422)
        return Response(body, status=201)
