from django.urls import path

from . import views, views_report, views_repricing

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
    path("report/", views_report.report_page, name="report"),
    path("report/<int:job>.pdf", views_report.report_pdf, name="report_pdf"),
    path("what-if/", views.what_if, name="what_if"),
    path("reprice/", views_repricing.repricing, name="repricing"),
    path("reprice/<int:pk>/", views_repricing.repricing_detail, name="repricing_detail"),
    path("report/export.xlsx", views_report.report_export, name="report_export"),
]
