from django.urls import path

from . import views, views_files

app_name = "supplies"
urlpatterns = [
    path("", views.index, name="index"),
    path("export.<str:fmt>", views.export, name="export"),
    path("new/", views.producer_new, name="new"),
    path("<int:pk>/", views.producer_detail, name="producer"),
    path("<int:pk>/listed/", views.listed, name="listed"),
    *views_files.PAGES.urls("files/"),
]
