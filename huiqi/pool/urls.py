from django.urls import path

from . import views, views_files

app_name = "pool"
urlpatterns = [
    path("", views.index, name="index"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/export.<str:fmt>", views.claim_export, name="claim_export"),
    path("claims/new/", views.claim_new, name="claim_new"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/filed/", views.claim_filed, name="claim_filed"),
    path("banks/", views.banks, name="banks"),
    path("ledger/", views.ledger, name="ledger"),
    path("report/", views.report, name="report"),
    path("what-if/", views.what_if, name="what_if"),
    path("report/export.xlsx", views.report_export, name="report_export"),
    path("files/", views_files.upload_page, name="uploads"),
    path("files/<int:pk>/", views_files.upload_detail, name="upload_detail"),
    path("files/<int:pk>/submitted/", views_files.upload_submitted, name="upload_submitted"),
    path("files/<int:pk>/errors.<str:fmt>", views_files.upload_error_report, name="upload_error_report"),
    path("files/template/<str:kind>.<str:lang>.<str:fmt>", views_files.template, name="template"),
    path("loans/<int:pk>/", views_files.loan_detail, name="loan_detail"),
]
