"""Return-to-work REST endpoints: daily checks pushed by an enterprise's own token or by an aggregator's
(department, bureau, administrator accounts; see ``permissions``), idempotent per enterprise and day;
filings with their history, read-only. Refusals come back in the one error body of ``core.api``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed

from . import api_fast, selectors, services
from .filters import DailyCheckFilter, FilingFilter
from .models import AttachmentKind, DailyCheck, DifficultyKind, FilingEvent, ReturnToWorkFiling


class DifficultySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DifficultyKind.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    needs_help = serializers.BooleanField(required=False, default=False)


class DailyCheckSerializer(serializers.ModelSerializer):
    enterprise = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    difficulties = serializers.SerializerMethodField()

    class Meta:
        model = DailyCheck
        fields = ["id", "enterprise", "enterprise_name", "day", "district", "industry_section", "size_class", "is_key",
                  "is_open", "staff_total", "staff_returned", "staff_on_site", "capacity_pct", "suspected_cases",
                  "confirmed_cases", "difficulties", "on_time", "source", "submitted_at", "updated_at"]

    @extend_schema_field(DifficultySerializer(many=True))
    def get_difficulties(self, obj) -> list[dict]:
        known = obj.__dict__.get("difficulty_rows")  # just written by the service: no query needed
        if known is not None:
            return [{"kind": d["kind"], "note": d["note"], "needs_help": d["needs_help"]} for d in known]
        return [{"kind": d.kind, "note": d.note, "needs_help": d.needs_help} for d in obj.difficulties.all()]


_TIME = serializers.DateTimeField()


def check_json(check: DailyCheck, uscc: str | None = None, name: str | None = None) -> dict:
    """What ``DailyCheckSerializer`` gives, built directly: every submission answers with it, and the
    generic serializer costs more than the rest of the reply. The enterprise's USCC and name are read
    from ``check.enterprise`` unless given."""
    if uscc is None:
        uscc, name = check.enterprise.uscc, check.enterprise.name
    return {"id": check.pk, "enterprise": uscc, "enterprise_name": name,
            "day": check.day.isoformat(), "district": check.district_id, "industry_section": check.industry_section,
            "size_class": check.size_class, "is_key": check.is_key, "is_open": check.is_open,
            "staff_total": check.staff_total, "staff_returned": check.staff_returned,
            "staff_on_site": check.staff_on_site, "capacity_pct": check.capacity_pct,
            "suspected_cases": check.suspected_cases, "confirmed_cases": check.confirmed_cases,
            "difficulties": DailyCheckSerializer.get_difficulties(None, check), "on_time": check.on_time,
            "source": check.source, "submitted_at": _TIME.to_representation(check.submitted_at),
            "updated_at": _TIME.to_representation(check.updated_at)}


class DailyCheckRequest(serializers.Serializer):
    enterprise = serializers.CharField(required=False, max_length=18,
                                       help_text=_("统一社会信用代码；企业用户只有一家企业时可省略"))
    day = serializers.DateField()
    is_open = serializers.BooleanField()
    staff_total = serializers.IntegerField()
    staff_returned = serializers.IntegerField()
    staff_on_site = serializers.IntegerField()
    capacity_pct = serializers.IntegerField(help_text="产能恢复 0–100 (%)")
    suspected_cases = serializers.IntegerField(required=False, default=0)
    confirmed_cases = serializers.IntegerField(required=False, default=0)
    difficulties = DifficultySerializer(many=True, required=False, default=list)


class DailyCheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Daily checks the caller may read. POST reports one (201) or corrects it until the day locks (200);
    the same report twice changes nothing."""

    serializer_class = DailyCheckSerializer
    filterset_class = DailyCheckFilter

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        """The list route's view is ``api_fast.view``, which answers a plainly well-formed POST itself:
        the morning's reports from aggregators' systems are this platform's peak load (see that module)."""
        view = super().as_view(actions, **initkwargs)
        return api_fast.view(view) if "post" in (actions or {}) else view

    def get_queryset(self):
        return (selectors.daily_checks_for(self.request.user).prefetch_related("difficulties")
                .order_by("-day", "enterprise__uscc"))

    @extend_schema(request=DailyCheckRequest, responses={201: DailyCheckSerializer, 200: DailyCheckSerializer})
    def create(self, request, *args, **kwargs):
        body = DailyCheckRequest(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        enterprise = data.pop("enterprise", None)
        if not enterprise:
            own = list(request.user.enterprises.values_list("uscc", flat=True)[:2]) \
                if getattr(request.user, "role", "") == "enterprise" else []
            if len(own) != 1:
                raise ValidationFailed("daily_check.enterprise", _("请填写企业的统一社会信用代码"), field="enterprise")
            enterprise = own[0]
        day = data.pop("day")
        difficulties = data.pop("difficulties", [])
        check, created = services.submit_daily_check(request.user, enterprise, day, data, difficulties,
                                                     source="api")
        return Response(check_json(check), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FilingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = FilingEvent
        fields = ["action", "from_status", "to_status", "actor_label", "at", "note"]


class FilingAttachmentSerializer(serializers.Serializer):
    """An attachment of a filing: its kind, file name, type, size and download address."""

    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    name = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    url = serializers.CharField()


class FilingSerializer(serializers.ModelSerializer):
    enterprise = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    inspector = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    events = FilingEventSerializer(many=True, read_only=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = ReturnToWorkFiling
        fields = ["id", "enterprise", "enterprise_name", "district", "kind", "status", "planned_date", "staff_total",
                  "staff_returning", "staff_from_outside", "staff_in_quarantine", "checklist", "masks",
                  "thermometers", "disinfectant_litres", "contact_name", "contact_phone", "inspector",
                  "check_result", "check_findings", "checked_at", "decision_note", "decided_at", "submitted_at",
                  "updated_at", "events", "attachments"]

    @extend_schema_field(FilingAttachmentSerializer(many=True))
    def get_attachments(self, obj) -> list[dict]:
        from django.urls import reverse

        return [{"kind": a.kind, "name": a.name, "content_type": a.content_type, "size": a.size,
                 "url": reverse("resumption:attachment", args=[a.pk])} for a in obj.attachments.all()]


class FilingViewSet(viewsets.ReadOnlyModelViewSet):
    """Return-to-work filings the caller may read (own, the district's, or the city's), with history."""

    serializer_class = FilingSerializer
    filterset_class = FilingFilter

    def get_queryset(self):
        return selectors.filings_for(self.request.user).prefetch_related("events", "attachments")
