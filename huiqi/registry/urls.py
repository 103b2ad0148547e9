from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.enterprise_list, name="enterprise_list"),
    path("export.<str:fmt>", views.enterprise_export, name="enterprise_export"),
    path("e/<str:uscc>/", views.enterprise_detail, name="enterprise_detail"),
    path("banks/", views.bank_list, name="bank_list"),
    path("import/", views.import_page, name="import"),
    path("import/template.<str:lang>.<str:fmt>", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/errors.<str:fmt>", views.import_error_report, name="import_error_report"),
    path("import/<int:pk>/submitted/", views.import_submitted, name="import_submitted"),
]
