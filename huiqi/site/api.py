"""The REST API at ``/api/v1/``: one router over every app's declared routes."""

from django.utils.module_loading import import_string
from rest_framework.routers import DefaultRouter

from . import discovery


def build_router() -> DefaultRouter:
    router = DefaultRouter()
    for route in discovery.api_routes():
        router.register(route.prefix, import_string(route.viewset), basename=route.basename)
    return router


urlpatterns = [*build_router().urls, *discovery.api_urls()]
