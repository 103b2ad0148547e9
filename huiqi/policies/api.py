"""The hub's REST endpoints: the catalogue of items in force (search and facets as on the page), one item
with its criteria, for an enterprise's system its own matches (政策找我), and online applications (an
enterprise its own, a department those routed to it, the bureau every one), each from the same selectors and
services as the pages."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from huiqi.core import clock
from huiqi.core.errors import ValidationFailed
from huiqi.core.money import fen_to_yuan, yuan_to_fen

from . import selectors, services
from .filters import ApplicationFilter
from .models import APPLICATION_TRANSITIONS

FILTERS = [OpenApiParameter("q", str, description="free text (jieba tokens)"),
           *(OpenApiParameter(facet, str, many=True, description=f"{facet} tags (OR within, AND across facets)")
             for facet in selectors.FACETS)]


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField(source="item.code")
    version = serializers.IntegerField(source="number")
    title = serializers.CharField()
    summary = serializers.CharField()
    guide = serializers.CharField()
    mode = serializers.CharField()
    opens = serializers.DateField(allow_null=True)
    closes = serializers.DateField(allow_null=True)
    tags = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    criteria = serializers.JSONField()


class MatchSerializer(serializers.Serializer):
    uscc = serializers.CharField()
    code = serializers.CharField()
    title = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["met", "not_met", "unknown"])
    missing = serializers.ListField(child=serializers.CharField())


class ItemViewSet(viewsets.ViewSet):
    """Policy items in force today (published), by title."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"

    @extend_schema(parameters=FILTERS, responses=ItemSerializer(many=True))
    def list(self, request, format=None):
        found = selectors.catalogue(clock.today(), request.query_params.get("q", "")[:100],
                                    selectors.chosen_facets(request.query_params))
        return Response(ItemSerializer(found, many=True).data)

    @extend_schema(responses=ItemSerializer)
    def retrieve(self, request, code=None, format=None):
        version = selectors.item_page_version(request.user, code, clock.today())
        if version is None:
            raise NotFound()
        return Response(ItemSerializer(version).data)


class MatchViewSet(viewsets.ViewSet):
    """政策找我 for the caller's own enterprises: every open item in force with its outcome (met first, then
    unknown with the missing fields, then not met); empty for a caller that acts for no enterprise."""

    @extend_schema(parameters=FILTERS, responses=MatchSerializer(many=True))
    def list(self, request, format=None):
        rows = []
        if request.user.has_perm("policies.match_own"):
            day = clock.today()
            chosen = selectors.chosen_facets(request.query_params)
            for ent in selectors.own_enterprises(request.user):
                found = selectors.for_enterprise(ent.uscc, day, request.query_params.get("q", "")[:100], chosen)
                for outcome, key in (("met", "met"), ("unknown", "unknown"), ("not_met", "not_met")):
                    for r in found[key]:
                        rows.append({"uscc": ent.uscc, "code": r["code"], "title": r["title"], "outcome": outcome,
                                     "missing": [name for name, _field in r["missing"]]})
        return Response(MatchSerializer(rows, many=True).data)


# --- online applications -------------------------------------------------------------------------------------

def _yuan(fen) -> str | None:
    return None if fen is None else str(fen_to_yuan(fen))


class PolicyApplicationSerializer(serializers.Serializer):
    number = serializers.CharField()
    item = serializers.CharField(source="item.code")
    version = serializers.IntegerField(source="version.number")
    title = serializers.CharField(source="version.title")
    uscc = serializers.CharField(source="enterprise.uscc")
    enterprise = serializers.CharField(source="enterprise.name")
    department = serializers.CharField(source="department.code", allow_null=True, default=None)
    state = serializers.CharField()
    submitted_on = serializers.DateField()
    due = serializers.DateField()
    sla_days = serializers.IntegerField()
    overdue = serializers.SerializerMethodField()
    accepted_on = serializers.DateField(allow_null=True)
    decided_on = serializers.DateField(allow_null=True)
    paid_on = serializers.DateField(allow_null=True)
    approved = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    rejection_reason = serializers.CharField()
    registry = serializers.JSONField()
    declared = serializers.JSONField()
    outcome = serializers.JSONField()

    def get_overdue(self, obj) -> bool:
        return selectors.is_overdue(obj)

    def get_approved(self, obj) -> str | None:
        return _yuan(obj.approved_fen)

    def get_paid(self, obj) -> str | None:
        return _yuan(obj.paid_fen)


class PolicyApplicationRequest(serializers.Serializer):
    uscc = serializers.CharField(max_length=18)
    item = serializers.CharField(max_length=40)
    declared = serializers.DictField(required=False, default=dict,
                                     help_text="facts the registry lacks, by criteria field (JSON values)")
    statement = serializers.CharField(required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                        help_text="multipart only")


class PolicyApplicationMove(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True,
                                      help_text="元: approve (the amount approved), pay (the amount paid)")
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="reject: the reason")


class ApplicationViewSet(viewsets.ReadOnlyModelViewSet):
    """Online applications the caller may read (an enterprise its own, a department those routed to it, the
    bureau, auditors and administrators every one), filtered as on the page: state, item, from, to, overdue, q.
    An enterprise applies by POST (refused with ``criteria_not_met``, ``criteria_unknown``,
    ``excluded_by_stacking_rule`` and the leaves or item concerned, or naming each bad field); the owning
    department moves one with ``POST …/<number>/do/<accept|approve|reject|pay>/``."""

    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    serializer_class = PolicyApplicationSerializer
    filterset_class = ApplicationFilter
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    def get_queryset(self):
        return selectors.applications_for(self.request.user)

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(request=PolicyApplicationRequest, responses={201: PolicyApplicationSerializer})
    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("policies.apply"):
            raise ApiPermissionDenied()
        ser = PolicyApplicationRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        enterprise = selectors.own_enterprises(request.user).filter(uscc=d["uscc"].strip()).first()
        if enterprise is None:
            raise ValidationFailed("policies.not_your_enterprise", _("您不能为该企业申报"), field="uscc")
        app = services.submit_application(
            request.user, enterprise=enterprise, code=d["item"].strip(), declared=d["declared"],
            statement=d["statement"], contact_name=d["contact_name"], contact_phone=d["contact_phone"],
            attachments=d["attachments"])
        return Response(PolicyApplicationSerializer(app).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PolicyApplicationMove, responses=PolicyApplicationSerializer,
                   parameters=[OpenApiParameter("act", str, OpenApiParameter.PATH, enum=list(APPLICATION_TRANSITIONS))])
    @action(detail=True, methods=["post"], url_path=r"do/(?P<act>[a-z]+)", url_name="act")
    def act(self, request, number=None, act=None):
        """The department's move, as on the page (the amount in 元; a reason to reject)."""
        if act not in APPLICATION_TRANSITIONS:
            raise NotFound()
        app = self.get_object()
        if not isinstance(request.data, Mapping):
            raise ValidationFailed("policies.body", _("请求内容应为字段及其取值（JSON 对象）"))
        ser = PolicyApplicationMove(data=request.data)
        ser.is_valid(raise_exception=True)
        amount = ser.validated_data.get("amount")
        services.move_application(request.user, app, act, note=ser.validated_data["note"],
                                  amount_fen=None if amount is None else yuan_to_fen(amount))
        app.refresh_from_db()
        return Response(PolicyApplicationSerializer(app).data)
