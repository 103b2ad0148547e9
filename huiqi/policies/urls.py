from django.urls import path

from . import views

app_name = "policies"
urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("publicity/", views.publicity, name="publicity"),
    path("new/", views.edit, name="new"),
    path("items/<str:code>/", views.item, name="item"),
    path("items/<str:code>/edit/", views.edit, name="edit"),
    path("items/<str:code>/versions/", views.versions, name="versions"),
]
