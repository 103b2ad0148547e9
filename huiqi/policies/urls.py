from django.urls import path

from . import views, views_applications as applications

app_name = "policies"
urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("publicity/", views.publicity, name="publicity"),
    path("new/", views.edit, name="new"),
    path("items/<str:code>/", views.item, name="item"),
    path("items/<str:code>/edit/", views.edit, name="edit"),
    path("items/<str:code>/versions/", views.versions, name="versions"),
    path("items/<str:code>/apply/", applications.apply_for, name="apply"),
    path("applications/", applications.applications, name="applications"),
    path("applications/export.<str:fmt>", applications.applications_export, name="applications_export"),
    path("applications/<str:number>/", applications.application, name="application"),
    path("applications/<str:number>/done/", applications.applied, name="applied"),
    path("applications/<str:number>/files/<int:pk>/", applications.application_file, name="application_file"),
]
