"""The hub's REST endpoints: the catalogue of items in force (search and facets as on the page), one item
with its criteria, and for an enterprise's system its own matches (政策找我), each from the same selectors
as the pages."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from huiqi.core import clock

from . import selectors

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
