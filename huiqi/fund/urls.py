from django.urls import path

from . import views, views_files

app_name = "fund"
urlpatterns = [
    path("", views.index, name="index"),
    path("funnel/export.xlsx", views.funnel_export, name="funnel_export"),
    path("funnel/<int:job>.pdf", views.funnel_pdf, name="funnel_pdf"),
    path("applications/", views.application_list, name="list"),
    path("applications/export.<str:fmt>", views.application_export, name="export"),
    path("applications/new/", views.application_new, name="new"),
    path("applications/<int:pk>/", views.application_detail, name="detail"),
    path("applications/<int:pk>/registered/", views.registered, name="registered"),
    path("files/", views_files.upload_page, name="uploads"),
    path("files/template/<str:kind>.<str:lang>.<str:fmt>", views_files.template, name="template"),
    path("files/<int:pk>/", views_files.upload_detail, name="upload_detail"),
    path("files/<int:pk>/submitted/", views_files.upload_submitted, name="upload_submitted"),
    path("files/<int:pk>/errors.<str:fmt>", views_files.upload_error_report, name="upload_error_report"),
]
