from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

admin.site.site_header = "惠企 Huiqi 后台管理 back office"
admin.site.site_title = "惠企 Huiqi"

urlpatterns = [
    path("api/v1/", include("huiqi.site.api")),  # early: the API carries the heaviest traffic
    path("", include("huiqi.site.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("huiqi.accounts.urls")),
    path("registry/", include("huiqi.registry.urls")),
    path("lending/", include("huiqi.lending.urls")),
    path("subsidy/", include("huiqi.subsidy.urls")),
    path("requests/", include("huiqi.requests.urls")),
    path("open311/v2/", include("huiqi.requests.open311_urls")),
    path("resumption/", include("huiqi.resumption.urls")),
    path("pool/", include("huiqi.pool.urls")),
    path("policies/", include("huiqi.policies.urls")),
    path("fund/", include("huiqi.fund.urls")),
    path("supplies/", include("huiqi.supplies.urls")),
    path("core/", include("huiqi.core.urls")),
    path("admin/", admin.site.urls),
    # The API's description is for signed-in users: a person is sent to log in, a client needs its token.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="api-schema"),
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
    path("api/redoc/", login_required(SpectacularRedocView.as_view(url_name="api-schema")),
         name="api-redoc"),
]

if settings.DEBUG:  # pragma: no cover
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
