from django.urls import path

from . import views, views_applications as applications, views_auto, views_funnel, views_push

app_name = "policies"
urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("publicity/", views.publicity, name="publicity"),
    path("funnel/", views_funnel.funnel, name="funnel"),
    path("funnel/export.xlsx", views_funnel.funnel_export, name="funnel_export"),
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
    # 免申即享 lists: the bureau's pages, the public 公示, an enterprise's own entries.
    path("lists/", views_auto.lists_index, name="lists"),
    path("lists/<int:pk>/", views_auto.list_detail, name="list"),
    path("lists/<int:pk>/export.<str:fmt>", views_auto.list_export, name="list_export"),
    path("lists/<int:pk>/payment.<str:fmt>", views_auto.payment_file, name="payment_file"),
    path("gongshi/", views_auto.public_index, name="public_lists"),
    path("gongshi/<int:pk>/", views_auto.public_list, name="public_list"),
    path("mine/lists/", views_auto.own, name="own_lists"),
    path("inbox/", views_push.inbox, name="inbox"),
    path("inbox/<int:pk>/", views_push.message, name="message"),
    path("push-settings/", views_push.push_settings, name="push_settings"),
    path("push-log/", views_push.push_log, name="push_log"),
    path("m/<str:token>/", views_push.link, name="push_link"),
]
