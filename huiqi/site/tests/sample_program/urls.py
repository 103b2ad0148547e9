from django.urls import path

from . import views

app_name = "sample_program"
urlpatterns = [path("", views.index, name="index")]
