"""The 免申即享 lists' REST endpoints, from the same selectors and services as the pages:
``/api/v1/policy-lists/`` (bureau, auditors, administrators: the lists with their control totals, a list's
entries and objections; the bureau's steps as POST actions) and ``/api/v1/policy-list-entries/`` (an
enterprise's own entries on publicised lists; an objection or declining as POST actions)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from huiqi.core.api import Pagination
from huiqi.core.api_views import JobSerializer

from . import selectors_auto as lists
from . import services_auto as auto
from .models import Objection


class ListSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.CharField(source="item.code")
    kind = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    source = serializers.CharField()
    subsidy_batch = serializers.IntegerField(source="subsidy_batch_id", allow_null=True)
    list_date = serializers.DateField()
    status = serializers.CharField()
    listed = serializers.IntegerField()
    listed_fen = serializers.IntegerField(allow_null=True)
    published_on = serializers.DateField(allow_null=True)
    objections_until = serializers.DateField(allow_null=True)
    payment_count = serializers.IntegerField(allow_null=True)
    payment_total_fen = serializers.IntegerField(allow_null=True)
    payment_digest = serializers.CharField()
    payment_approved = serializers.SerializerMethodField()
    paid_count = serializers.IntegerField()
    paid_fen = serializers.IntegerField()
    failed_count = serializers.IntegerField()
    failed_fen = serializers.IntegerField()

    def get_payment_approved(self, obj) -> bool:
        return obj.payment_approved_by_id is not None


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    list = serializers.IntegerField(source="auto_list_id")
    beneficiary_id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(source="beneficiary_kind")
    amount_fen = serializers.IntegerField()
    status = serializers.CharField()
    status_reason = serializers.CharField()
    payment = serializers.CharField()
    explanation = serializers.JSONField()


class ObjectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    list = serializers.IntegerField(source="auto_list_id")
    uscc = serializers.CharField(source="enterprise.uscc")
    kind = serializers.CharField()
    text = serializers.CharField()
    requested_fen = serializers.IntegerField(allow_null=True)
    decision = serializers.CharField()
    reason = serializers.CharField()
    granted_fen = serializers.IntegerField(allow_null=True)


class CompileRequest(serializers.Serializer):
    item = serializers.CharField(max_length=40)
    batch = serializers.IntegerField(required=False, min_value=1, help_text="a released subsidy batch (interest subsidy)")
    day = serializers.DateField(required=False)


class ReasonRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class EntryRequest(ReasonRequest):
    entry = serializers.IntegerField()


class DecideRequest(ReasonRequest):
    objection = serializers.IntegerField()
    upheld = serializers.BooleanField()
    granted_fen = serializers.IntegerField(required=False, min_value=1)


class ResultsRequest(serializers.Serializer):
    file = serializers.FileField()


class ObjectionRequest(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Objection.Kind.values)
    text = serializers.CharField(max_length=2000)
    requested_fen = serializers.IntegerField(required=False, min_value=1)


class NewObjectionRequest(ObjectionRequest):
    list = serializers.IntegerField()
    uscc = serializers.CharField(max_length=18)


class DeclineRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


CompileAccepted = inline_serializer("PolicyListCompileAccepted", {"job": JobSerializer(), "url": serializers.CharField()})


def _may(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _body(cls, request):
    body = cls(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class ListViewSet(viewsets.ViewSet):
    """免申即享 lists with their totals (bureau, auditors, administrators; others see none)."""

    pagination_class = Pagination

    def _get(self, request, pk):
        found = lists.list_for(request.user, pk)
        if found is None:
            raise NotFound()
        return found

    def _reply(self, request, pk, code=status.HTTP_200_OK):
        return Response(ListSerializer(self._get(request, pk)).data, status=code)

    @extend_schema(responses=ListSerializer(many=True))
    def list(self, request, format=None):
        paginator = Pagination()
        page = paginator.paginate_queryset(lists.lists_for(request.user), request)
        return paginator.get_paginated_response(ListSerializer(page, many=True).data)

    @extend_schema(responses=ListSerializer)
    def retrieve(self, request, pk=None, format=None):
        return self._reply(request, pk)

    @extend_schema(responses=EntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def entries(self, request, pk=None, format=None):
        paginator = Pagination()
        page = paginator.paginate_queryset(lists.entries_of(self._get(request, pk)), request)
        return paginator.get_paginated_response(EntrySerializer(page, many=True).data)

    @extend_schema(responses=ObjectionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def objections(self, request, pk=None, format=None):
        return Response(ObjectionSerializer(lists.objections_of(self._get(request, pk)), many=True).data)

    @extend_schema(request=CompileRequest, responses={202: CompileAccepted})
    @action(detail=False, methods=["post"])
    def compile(self, request, format=None):
        """Queue the compilation of an item's list (from its criteria and its program's amount rule, or from a
        released interest-subsidy batch when ``batch`` is given): 202 with the background job (``Location``:
        its address under ``/api/v1/jobs/``), whose ``result.list_id`` names the list once it has succeeded."""
        _may(request, "policies.manage_lists")
        data = _body(CompileRequest, request)
        job = auto.start_compile(request.user, data["item"], data.get("day"), data.get("batch"))
        url = reverse("job-detail", args=[job.pk])
        return Response({"job": JobSerializer(job).data, "url": url}, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": url})

    def _step(self, request, pk, service):
        _may(request, "policies.manage_lists")
        service(request.user, self._get(request, pk))
        return self._reply(request, pk)

    @extend_schema(request=None, responses=ListSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None, format=None):
        """compiled → reviewed, by someone other than who compiled it."""
        return self._step(request, pk, auto.review_list)

    @extend_schema(request=None, responses=ListSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None, format=None):
        """reviewed → publicised today, with its objection period."""
        return self._step(request, pk, auto.publish_list)

    @extend_schema(request=None, responses=ListSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None, format=None):
        """publicised → objections_closed, after the period."""
        return self._step(request, pk, auto.close_objections)

    @extend_schema(request=None, responses=ListSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None, format=None):
        """objections_closed → confirmed (frozen); upheld additions and increases to a supplementary list."""
        return self._step(request, pk, auto.confirm_list)

    @extend_schema(request=None, responses=ListSerializer)
    @action(detail=True, methods=["post"], url_path="prepare-payment")
    def prepare_payment(self, request, pk=None, format=None):
        """confirmed → payment_list with its control totals."""
        return self._step(request, pk, auto.prepare_payment)

    @extend_schema(request=None, responses=ListSerializer)
    @action(detail=True, methods=["post"], url_path="approve-payment")
    def approve_payment(self, request, pk=None, format=None):
        """The payment list approved by someone other than who prepared it."""
        return self._step(request, pk, auto.approve_payment)

    @extend_schema(request=EntryRequest, responses=EntrySerializer)
    @action(detail=True, methods=["post"], url_path="remove-entry")
    def remove_entry(self, request, pk=None, format=None):
        _may(request, "policies.manage_lists")
        data = _body(EntryRequest, request)
        entry = self._get(request, pk).entries.filter(pk=data["entry"]).first()
        if entry is None:
            raise NotFound()
        return Response(EntrySerializer(auto.remove_entry(request.user, entry, data["reason"])).data)

    @extend_schema(request=DecideRequest, responses=ObjectionSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None, format=None):
        _may(request, "policies.manage_lists")
        data = _body(DecideRequest, request)
        objection = self._get(request, pk).objections.filter(pk=data["objection"]).first()
        if objection is None:
            raise NotFound()
        done = auto.decide_objection(request.user, objection, data["upheld"], data["reason"], data.get("granted_fen"))
        return Response(ObjectionSerializer(done).data)

    @extend_schema(request={"multipart/form-data": ResultsRequest}, responses=ListSerializer)
    @action(detail=True, methods=["post"], parser_classes=[parsers.MultiPartParser])
    def results(self, request, pk=None, format=None):
        """Upload the payment results file (CSV/XLSX: beneficiary_id, status paid|failed, amount, note): it
        must reconcile with the payment list or it is refused whole, every bad row named."""
        _may(request, "policies.manage_lists")
        data = _body(ResultsRequest, request)
        auto.upload_results(request.user, self._get(request, pk), data["file"])
        return self._reply(request, pk)


class OwnEntryViewSet(viewsets.ViewSet):
    """The caller's own enterprises' entries on publicised lists (empty for anyone else)."""

    def _get(self, request, pk):
        found = lists.own_entry(request.user, pk)
        if found is None:
            raise NotFound()
        return found

    @extend_schema(responses=EntrySerializer(many=True))
    def list(self, request, format=None):
        return Response(EntrySerializer(lists.own_entries(request.user), many=True).data)

    @extend_schema(responses=EntrySerializer)
    def retrieve(self, request, pk=None, format=None):
        return Response(EntrySerializer(self._get(request, pk)).data)

    @extend_schema(request=DeclineRequest, responses=EntrySerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None, format=None):
        """Decline the entry (before the list is confirmed)."""
        data = _body(DeclineRequest, request)
        return Response(EntrySerializer(auto.decline_entry(request.user, self._get(request, pk),
                                                           data.get("reason", ""))).data)

    @extend_schema(request=NewObjectionRequest, responses={201: ObjectionSerializer})
    @action(detail=False, methods=["post"])
    def objection(self, request, format=None):
        """An objection to a publicised list within its period, for one of the caller's enterprises: about
        its entry (``increase``, ``other``) or asking to be added (``add``)."""
        _may(request, "policies.own_entries")
        data = _body(NewObjectionRequest, request)
        auto_list = lists.public_lists().filter(pk=data["list"]).first()
        if auto_list is None:
            raise NotFound()
        made = auto.object_to(request.user, auto_list, data["uscc"], data["kind"], data["text"],
                              data.get("requested_fen"))
        return Response(ObjectionSerializer(made).data, status=status.HTTP_201_CREATED)
