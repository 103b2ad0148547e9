"""The spec's tag vocabularies as the bureau starts with them (it edits them afterwards)."""

from django.db import migrations

TAGS = {
    "subject": [("financing", "融资", "Financing"), ("rent", "租金", "Rent"), ("tax", "税费", "Taxes and fees"),
                ("social_insurance", "社保", "Social insurance"), ("employment", "用工", "Employment"),
                ("supplies", "防疫物资", "Epidemic supplies"), ("upgrade", "技改", "Technical upgrading"),
                ("arrears", "清欠", "Arrears clearing")],
    "benefit": [("grant", "资金补贴", "Grant"), ("interest", "贴息", "Interest subsidy"),
                ("reduction", "减免", "Reduction or exemption"), ("deferral", "缓缴", "Deferral"),
                ("service", "服务", "Service")],
    "mode": [("auto", "免申即享", "No application needed"), ("prefilled", "即申即享", "Prefilled application"),
             ("application", "申报", "Application")],
}


def seed(apps, schema_editor):
    Tag = apps.get_model("policies", "Tag")
    for facet, rows in TAGS.items():
        for order, (code, name, name_en) in enumerate(rows):
            Tag.objects.get_or_create(facet=facet, code=code, defaults={"name": name, "name_en": name_en,
                                                                        "order": order})


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
