"""The project's urls.py with the new program's one line added."""

from django.urls import include, path

from huiqi.urls import urlpatterns as project

urlpatterns = [*project, path("sample/", include("huiqi.site.tests.sample_program.urls"))]
