from django.urls import path

from . import views

app_name = "resumption"
urlpatterns = [
    path("", views.index, name="index"),
    path("filings/", views.filing_list, name="filing_list"),
    path("filings/new/", views.filing_new, name="filing_new"),
    path("filings/<int:pk>/", views.filing_detail, name="filing_detail"),
    path("filings/<int:pk>/edit/", views.filing_edit, name="filing_edit"),
    path("filings/<int:pk>/submitted/", views.filing_submitted, name="filing_submitted"),
    path("attachments/<int:pk>", views.attachment, name="attachment"),
    path("checks/new/", views.check_form, name="check_form"),
    path("checks/<int:pk>/submitted/", views.check_submitted, name="check_submitted"),
    path("checks/", views.check_list, name="check_list"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.xlsx", views.dashboard_export, name="dashboard_export"),
    path("report/", views.report_page, name="report"),
    path("report/export.xlsx", views.report_xlsx, name="report_xlsx"),
    path("report/pdf/<int:job>", views.report_pdf, name="report_pdf"),
]
