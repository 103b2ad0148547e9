"""Registry REST endpoints (thin: parse, call a selector or service, serialise)."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, parsers, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from huiqi.core.api import ShownField

from . import selectors, services
from .filters import EnterpriseFilter
from .models import Bank, BusinessOwner, District, Enterprise, FundInstitution, Industry, RegistryImport


class EnterpriseSerializer(serializers.ModelSerializer):
    district_name = serializers.CharField(source="district.name", read_only=True)
    industry_name = serializers.CharField(source="industry.name", read_only=True)
    revenue_wan = serializers.DecimalField(max_digits=20, decimal_places=6, read_only=True, allow_null=True)
    assets_wan = serializers.DecimalField(max_digits=20, decimal_places=6, read_only=True, allow_null=True)

    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "kind", "district", "district_name", "industry", "industry_name", "employees",
                  "revenue_wan", "assets_wan", "figures_year", "size_class", "size_missing", "size_year",
                  "is_key_enterprise", "updated_at"]


class EnterpriseCreateSerializer(serializers.Serializer):
    uscc = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(Enterprise.Kind.choices, required=False)
    district = serializers.CharField()
    industry = serializers.CharField()
    employees = serializers.IntegerField(required=False, allow_null=True)
    revenue_wan = serializers.DecimalField(max_digits=20, decimal_places=6, required=False, allow_null=True)
    assets_wan = serializers.DecimalField(max_digits=20, decimal_places=6, required=False, allow_null=True)
    figures_year = serializers.IntegerField(required=False, allow_null=True, min_value=2000, max_value=2100)


class EnterpriseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Enterprises the caller may see; bureau staff may register one."""

    lookup_field = "uscc"
    filterset_class = EnterpriseFilter

    def get_serializer_class(self):
        return EnterpriseCreateSerializer if self.action == "create" else EnterpriseSerializer

    def get_queryset(self):
        return selectors.enterprises_listed(self.request.user)

    @extend_schema(request=EnterpriseCreateSerializer, responses={201: EnterpriseSerializer})
    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("registry.import"):
            raise PermissionDenied()
        ser = EnterpriseCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        e = services.register_enterprise(request.user, **ser.validated_data)
        return Response(EnterpriseSerializer(e).data, status=201)


class BusinessOwnerSerializer(serializers.ModelSerializer):
    resident_id = serializers.CharField(source="masked_id", read_only=True)
    owns = serializers.SlugRelatedField(source="enterprises", slug_field="uscc", many=True, read_only=True)

    class Meta:
        model = BusinessOwner
        fields = ["id", "name", "resident_id", "owns"]


class BusinessOwnerViewSet(viewsets.ReadOnlyModelViewSet):
    """Small-business owners, ID numbers masked."""

    serializer_class = BusinessOwnerSerializer

    def get_queryset(self):
        # An owner's other enterprises outside the caller's scope are not named.
        visible = Prefetch("enterprises", queryset=Enterprise.objects.for_user(self.request.user))
        return selectors.owners_for(self.request.user).prefetch_related(visible)


class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["code", "name", "name_en"]


class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DistrictSerializer
    queryset = District.objects.all()
    pagination_class = None


class IndustrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name", "name_en", "level", "section", "size_group"]


class IndustryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IndustrySerializer
    queryset = Industry.objects.all()
    filterset_fields = ["level", "section"]


class BankSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bank
        fields = ["code", "name", "signed_date", "onboarded_date"]


class BankViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = BankSerializer
    lookup_field = "code"

    def get_queryset(self):
        return selectors.banks()


class FundInstitutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FundInstitution
        fields = ["code", "name", "name_en"]


class FundInstitutionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FundInstitutionSerializer
    queryset = FundInstitution.objects.all()
    lookup_field = "code"


class RegistryImportSerializer(serializers.ModelSerializer):
    job_status = serializers.CharField(source="job.status", read_only=True, allow_null=True)
    message = ShownField()

    class Meta:
        model = RegistryImport
        fields = ["id", "kind", "file_name", "digest", "size_bytes", "status", "rows_total", "rows_created", "rows_updated",
                  "rows_unchanged", "error_count", "message", "unknown_columns", "job", "job_status",
                  "uploaded_at", "finished_at"]


class UploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RegistryImport.Kind.choices, default=RegistryImport.Kind.REGISTRY)
    file = serializers.FileField()


class CanImport(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("registry.import")


class RegistryImportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Upload a registry extract, ownership or dishonest-debtor file (CSV or XLSX; ``kind``, the extract when
    omitted). The whole file is stored or refused; see ``errors``."""

    serializer_class = RegistryImportSerializer
    permission_classes = [permissions.IsAuthenticated, CanImport]
    parser_classes = [parsers.MultiPartParser]

    def get_queryset(self):
        return selectors.imports_for(self.request.user)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={201: RegistryImportSerializer})
    def create(self, request, *args, **kwargs):
        ser = UploadSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        record = services.start_registry_import(request.user, ser.validated_data["file"], ser.validated_data["kind"])
        return Response(RegistryImportSerializer(record).data, status=201 if record.status != "refused" else 422)
