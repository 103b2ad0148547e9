"""WSGI entry point for gunicorn.

Django's handler, behind one layer that answers the morning's daily-check pushes before Django's
request machinery (``resumption.api_fast.FastDailyChecks``; every other request passes through)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiqi.settings")
django_application = get_wsgi_application()

from huiqi.resumption.api_fast import FastDailyChecks

application = FastDailyChecks(django_application)
