from django.http import HttpResponse
from rest_framework import viewsets
from rest_framework.response import Response


def index(request):
    return HttpResponse("sample")


class ThingViewSet(viewsets.ViewSet):
    def list(self, request):
        return Response([])
