"""The loans' start_date index goes: no query selects loans by their start (the subsidy reads the whole
ledger; the pages filter by bank, kind and purpose), and a bulk load built it again each time
(docs/decisions.md, "Bulk loads: the file read, checked and written at the same time")."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0007_ledger_change_log'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='loan',
            name='loan_start',
        ),
    ]
