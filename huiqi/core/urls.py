from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/<int:pk>/", views.audit_detail, name="audit_detail"),
    path("audit/export.<str:fmt>", views.audit_export, name="audit_export"),
    path("parameters/", views.parameter_list, name="parameter_list"),
    path("parameters/proposals/<int:pk>/decide/", views.parameter_proposal_decide, name="parameter_proposal_decide"),
    path("parameters/<str:key>/", views.parameter_detail, name="parameter_detail"),
]
