from django.urls import path

from . import views, views_files

app_name = "fund"
urlpatterns = [
    *views_files.PAGES.urls("files/"),
    path("", views.index, name="index"),
    path("funnel/export.xlsx", views.funnel_export, name="funnel_export"),
    path("funnel/<int:job>.pdf", views.funnel_pdf, name="funnel_pdf"),
    path("applications/", views.application_list, name="list"),
    path("applications/export.<str:fmt>", views.application_export, name="export"),
    path("applications/new/", views.application_new, name="new"),
    path("applications/<int:pk>/", views.application_detail, name="detail"),
    path("applications/<int:pk>/registered/", views.registered, name="registered"),
]
