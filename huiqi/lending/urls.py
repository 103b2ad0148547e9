from django.urls import path

from . import views

app_name = "lending"
urlpatterns = [
    path("", views.loan_list, name="loan_list"),
    path("upload/", views.upload_page, name="upload"),
    path("upload/<int:pk>/", views.upload_detail, name="upload_detail"),
    path("upload/<int:pk>/errors.<str:fmt>", views.upload_error_report, name="upload_error_report"),
    path("template/<str:kind>.<str:lang>.<str:fmt>", views.template, name="template"),
    path("upload/<int:pk>/submitted/", views.upload_submitted, name="upload_submitted"),
]
