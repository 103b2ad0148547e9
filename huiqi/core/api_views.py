"""REST endpoints of core: jobs, the audit log, parameters."""

from __future__ import annotations

from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.response import Response

from . import parameter_changes, params, selectors
from .api import ShownField
from .filters import AuditFilter, JobFilter
from .i18n import shown
from .models import AuditEvent, Job, Parameter


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    message = ShownField()
    error = ShownField()
    result = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "title", "status", "progress_done", "progress_total", "percent", "message",
                  "result", "error", "created_at", "started_at", "finished_at"]

    def get_result(self, job) -> dict:
        result = dict(job.result or {})
        if isinstance(result.get("message"), str):
            result["message"] = shown(result["message"])
        return result


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background jobs the caller started, with progress and outcome."""

    serializer_class = JobSerializer
    filterset_class = JobFilter

    def get_queryset(self):
        return selectors.jobs_for(self.request.user)


class HasPerm(permissions.BasePermission):
    def __init__(self, perm):
        self.perm = perm

    def __call__(self):
        return self

    def has_permission(self, request, view):
        return request.user.has_perm(self.perm)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor_label", "action", "model", "object_id", "object_repr", "before", "after",
                  "note"]


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log (auditors and administrators); it cannot be changed through any endpoint."""

    serializer_class = AuditEventSerializer
    permission_classes = [permissions.IsAuthenticated, HasPerm("core.view_audit")]

    filterset_class = AuditFilter

    def get_queryset(self):
        return selectors.audit_for(self.request.user)


class ParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parameter
        fields = ["id", "key", "program", "value", "effective_from", "description", "note", "created_at"]
        read_only_fields = ["id", "created_at"]
        # A value for a key and day that exists is a correction (core.params.set_value decides whether
        # that day may still be corrected), not a duplicate.
        validators = []


class ParameterViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Program parameters with their effective dates. Creating one stores a new dated value (audited)."""

    serializer_class = ParameterSerializer
    permission_classes = [permissions.IsAuthenticated, HasPerm("core.view_parameters")]
    filterset_fields = ["key", "program"]

    def get_queryset(self):
        return selectors.parameters_for(self.request.user)

    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("core.edit_parameters"):
            self.permission_denied(request)
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        params.validate(d["key"], d["value"])
        if parameter_changes.touches_money(d["key"], d["value"], d["effective_from"]):
            # Money waits for a second person, as on the page.
            schema = params.field_set(d["key"])
            proposal = parameter_changes.submit(request.user, d["key"], schema.as_fields(d["value"]),
                                                d["effective_from"], note=d.get("note", ""))
            return Response({"proposal": proposal.pk, "status": proposal.status}, status=202)
        row = params.set_value(request.user, d["key"], d["program"], d["value"], d["effective_from"],
                               description=d.get("description", ""), note=d.get("note", ""))
        return Response(self.get_serializer(row).data, status=201)
