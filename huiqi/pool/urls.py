from django.urls import path

from . import views, views_files, views_lists, views_report, views_repricing

app_name = "pool"
urlpatterns = [
    *views_files.PAGES.urls("files/"),
    path("", views.index, name="index"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/export.<str:fmt>", views.claim_export, name="claim_export"),
    path("claims/new/", views.claim_new, name="claim_new"),
    path("claims/<int:pk>/", views.claim_detail, name="claim_detail"),
    path("claims/<int:pk>/filed/", views.claim_filed, name="claim_filed"),
    path("banks/", views.banks, name="banks"),
    path("banks/export.<str:fmt>", views_lists.banks_export, name="banks_export"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/export.<str:fmt>", views_lists.ledger_export, name="ledger_export"),
    path("loans/", views_lists.loans, name="loans"),
    path("loans/export.<str:fmt>", views_lists.loans_export, name="loans_export"),
    path("scorecard/export.<str:fmt>", views_lists.scorecard_export, name="scorecard_export"),
    path("report/", views_report.report_page, name="report"),
    path("report/<int:job>.pdf", views_report.report_pdf, name="report_pdf"),
    path("what-if/", views.what_if, name="what_if"),
    path("reprice/", views_repricing.repricing, name="repricing"),
    path("reprice/<int:pk>/", views_repricing.repricing_detail, name="repricing_detail"),
    path("report/export.xlsx", views_report.report_export, name="report_export"),
    path("loans/<int:pk>/", views_files.loan_detail, name="loan_detail"),
]
