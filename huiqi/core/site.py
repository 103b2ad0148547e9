"""What core adds to the site: the shared pages (jobs, parameters, audit) and their API."""

from django.utils.translation import gettext_lazy as _

from huiqi.core.declarations import Nav, Route

NAVIGATION = [
    Nav("core:job_list", _("后台任务"), order=900),
    Nav("core:parameter_list", _("项目参数"), "core.view_parameters", order=910),
    Nav("core:audit_list", _("审计日志"), "core.view_audit", order=920),
]

API_ROUTES = [
    Route("jobs", "huiqi.core.api_views.JobViewSet", "job"),
    Route("audit", "huiqi.core.api_views.AuditEventViewSet", "audit"),
    Route("parameters", "huiqi.core.api_views.ParameterViewSet", "parameter"),
]
