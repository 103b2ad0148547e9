"""The office that issues the platform's documents, as data: the parameter ``core.issuing_office``."""

import datetime as dt

from django.db import migrations

KEY = "core.issuing_office"
OFFICE = {"name": "深圳市中小企业服务局", "name_en": "Shenzhen SME Service Bureau"}


def seed(apps, schema_editor):
    Parameter = apps.get_model("core", "Parameter")
    if not Parameter.objects.filter(key=KEY).exists():
        Parameter.objects.create(key=KEY, program="core", value=OFFICE, effective_from=dt.date(2020, 1, 1))


def unseed(apps, schema_editor):
    apps.get_model("core", "Parameter").objects.filter(key=KEY, created_by=None).delete()


class Migration(migrations.Migration):

    dependencies = [("core", "0009_labels_in_one_language_since_main")]

    operations = [migrations.RunPython(seed, unseed)]
