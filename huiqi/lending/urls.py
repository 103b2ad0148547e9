from django.urls import path

from . import views

app_name = "lending"
urlpatterns = [
    path("", views.loan_list, name="loan_list"),
    *views.PAGES.urls("upload/", list_name="upload", templates=""),
]
