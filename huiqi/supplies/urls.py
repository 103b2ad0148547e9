from django.urls import path

from . import views, views_files

app_name = "supplies"
urlpatterns = [
    path("", views.index, name="index"),
    path("export.<str:fmt>", views.export, name="export"),
    path("new/", views.producer_new, name="new"),
    path("<int:pk>/", views.producer_detail, name="producer"),
    path("<int:pk>/listed/", views.listed, name="listed"),
    path("files/", views_files.upload_page, name="uploads"),
    path("files/template.<str:lang>.<str:fmt>", views_files.template, name="template"),
    path("files/<int:pk>/", views_files.upload_detail, name="upload_detail"),
    path("files/<int:pk>/submitted/", views_files.upload_submitted, name="upload_submitted"),
    path("files/<int:pk>/errors.<str:fmt>", views_files.upload_error_report, name="upload_error_report"),
]
