from django.urls import path

from . import views

app_name = "requests"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("messages/", views.inbox, name="inbox"),
    path("figures/", views.figures, name="figures"),
    path("figures/export.<str:fmt>", views.figures_export, name="figures_export"),
    path("problems/", views.problems, name="problems"),
    path("problems/<int:pk>/", views.problem, name="problem"),
    path("r/<str:number>/", views.detail, name="detail"),
    path("r/<str:number>/submitted/", views.submitted, name="submitted"),
    path("r/<str:number>/do/<str:action>/", views.act, name="act"),
    path("r/<str:number>/files/<int:pk>/", views.attachment, name="attachment"),
]
