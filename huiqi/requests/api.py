"""The platform's own REST API for requests (``/api/v1/requests/``, ``/api/v1/request-categories/``):
other front ends file requests and read them, scoped like the pages. Requests are addressed by their
number. Refusals of the services come back in the one error body of ``core.api``."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound as NotFoundError
from rest_framework.response import Response

from huiqi.core.errors import ValidationFailed

from . import actions, selectors, services
from .filters import RequestFilter
from .models import Category, Channel, EnterpriseRequest, RequestEvent


class CategorySerializer(serializers.ModelSerializer):
    default_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "name_en", "description", "default_agency", "accept_days", "answer_days", "active"]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The request categories with their default departments and deadlines (working days)."""

    serializer_class = CategorySerializer
    queryset = Category.objects.select_related("default_agency")
    lookup_field = "code"
    pagination_class = None


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestEvent
        fields = ["at", "actor_label", "action", "from_status", "to_status", "note"]


class RequestSerializer(serializers.ModelSerializer):
    enterprise = serializers.SlugRelatedField(slug_field="uscc", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    history = serializers.SerializerMethodField()

    class Meta:
        model = EnterpriseRequest
        fields = ["number", "enterprise", "enterprise_name", "district", "category", "channel", "title",
                  "description", "status", "agency", "submitted_at", "accepted_at", "answered_at", "closed_at",
                  "accept_deadline", "answer_deadline", "due_date", "paused_days", "escalation_level", "supervised",
                  "answer", "rating", "reopen_count", "history"]

    @extend_schema_field(EventSerializer(many=True))
    def get_history(self, obj) -> list[dict]:
        """The request's events, on the request read by its number (empty in lists)."""
        if self.context.get("view") is None or self.context["view"].action != "retrieve":
            return []
        user = self.context["request"].user
        return EventSerializer(selectors.events_for(user, obj), many=True).data


class RequestCreateSerializer(serializers.Serializer):
    enterprise = serializers.CharField(required=False, allow_blank=True, max_length=18,
                                       help_text=_("统一社会信用代码；企业用户只有一家企业时可省略"))
    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.all())
    title = serializers.CharField(allow_blank=True, max_length=100_000)
    description = serializers.CharField(allow_blank=True, max_length=100_000, trim_whitespace=False)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=30)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    attachments = serializers.ListField(child=serializers.FileField(), required=False)


# Describes the body of ``RequestViewSet.act`` for the schema; ``actions.run`` reads and checks the fields
# itself, as it does for the page's form.
class RequestAction(serializers.Serializer):
    """The fields of an action on a request: each action reads its own and ignores the rest."""

    note = serializers.CharField(required=False, allow_blank=True,
                                 help_text=_("说明、答复或理由"))
    rating = serializers.IntegerField(required=False, min_value=1, max_value=5, help_text=_("close：满意度 1–5"))
    agency = serializers.CharField(required=False, help_text=_("transfer：部门代码"))
    public = serializers.BooleanField(required=False, help_text=_("note：企业可见"))
    days = serializers.IntegerField(required=False, min_value=1, help_text=_("extend：工作日"))
    extension = serializers.IntegerField(required=False, help_text=_("decide_extension：延期申请 id"))
    approve = serializers.BooleanField(required=False, help_text=_("decide_extension：同意"))
    category = serializers.CharField(required=False, help_text=_("recategorise：类别代码"))
    problem = serializers.IntegerField(required=False, help_text=_("link：共性问题 id"))
    title = serializers.CharField(required=False, allow_blank=True,
                                  help_text=_("link：新共性问题的标题"))
    attachments = serializers.ListField(child=serializers.FileField(), required=False,
                                        help_text=_("reply：附件（multipart）"))


class RequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Enterprise requests the caller may read; POST files one (an enterprise user for its own enterprise,
    a hotline operator for any). Filters: status (or "open"), category, channel, district, agency, flag
    (overdue, near, escalated, supervised), q, from, to."""

    lookup_field = "number"
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser]

    def get_serializer_class(self):
        return RequestCreateSerializer if self.action == "create" else RequestSerializer

    filterset_class = RequestFilter

    def get_queryset(self):
        return selectors.requests_for(self.request.user).select_related("enterprise", "category", "agency")

    def filter_queryset(self, queryset):
        # The filters narrow the list; one request is found by its number whatever the query string says.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("requests.submit"):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied()
        s = RequestCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        enterprise = selectors.filing_enterprise(request.user, d.get("enterprise", ""))
        req = services.submit_request(
            request.user, enterprise=enterprise, category=d["category"], title=d["title"],
            description=d["description"], channel=Channel.API, contact_name=d.get("contact_name", ""),
            contact_phone=d.get("contact_phone", ""), contact_email=d.get("contact_email", ""),
            attachments=d.get("attachments", []))
        return Response(RequestSerializer(req, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RequestAction, responses=RequestSerializer,
                   parameters=[OpenApiParameter("act", str, OpenApiParameter.PATH, enum=actions.NAMES)])
    @action(detail=True, methods=["post"], url_path=r"do/(?P<act>[a-z_]+)", url_name="act")
    def act(self, request, number=None, act=None):
        """One action on the request, as on its page: accept, start, ask_enterprise, reply, answer, close
        (``rating`` 1–5), reopen, send_back, transfer (``agency`` code), note, supervise, extend (``days``),
        decide_extension (``extension``, ``approve``), recategorise (``category``), link (``problem`` or
        ``title``); ``note`` carries the text. Answers the request as it is after the action."""
        if act not in actions.NAMES:
            raise NotFoundError()
        req = self.get_object()
        if not isinstance(request.data, Mapping):  # JSON may be a list or a bare value: no fields to read
            raise ValidationFailed("request.body", _("请求内容应为字段及其取值（JSON 对象）"))
        with transaction.atomic():
            actions.run(request.user, req, act, request.data, request.FILES)
        req.refresh_from_db()
        return Response(RequestSerializer(req, context={"request": request}).data)
