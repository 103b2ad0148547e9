from django.urls import path

from . import views, views_push

app_name = "policies"
urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("publicity/", views.publicity, name="publicity"),
    path("new/", views.edit, name="new"),
    path("items/<str:code>/", views.item, name="item"),
    path("items/<str:code>/edit/", views.edit, name="edit"),
    path("items/<str:code>/versions/", views.versions, name="versions"),
    path("inbox/", views_push.inbox, name="inbox"),
    path("inbox/<int:pk>/", views_push.message, name="message"),
    path("push-settings/", views_push.push_settings, name="push_settings"),
    path("push-log/", views_push.push_log, name="push_log"),
    path("m/<str:token>/", views_push.link, name="push_link"),
]
