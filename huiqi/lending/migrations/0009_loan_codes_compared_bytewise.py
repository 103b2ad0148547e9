"""A loan's number and its borrower's identifier are codes (``core.fields.CodeField``): on PostgreSQL
their columns take the "C" collation, compared and sorted byte by byte, as SQLite compares text
already. Their indexes build faster so, which every first bulk load of loans does
(``lending.bulk.store.upsert_frame``; docs/decisions.md, "Bulk loads: the file read, checked and written at
the same time").

SQLite's columns do not change, so its table is not rebuilt: Django rebuilds an SQLite table for any
change of a field's class, and the rebuilt table would lose the triggers of migrations 0004 and 0005.
"""

from django.db import migrations, models

import huiqi.core.fields

FIELDS = {"borrower_id": ("借款人证件号码 borrower ID", 18), "loan_no": ("贷款合同编号 loan number", 64)}


def _alter(apps, schema_editor, old_class, new_class):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("lending", "Loan")
    for name, (label, length) in FIELDS.items():
        old, new = old_class(label, max_length=length), new_class(label, max_length=length)
        for field in (old, new):
            field.set_attributes_from_name(name)
            field.model = model
        schema_editor.alter_field(model, old, new)


def forward(apps, schema_editor):
    _alter(apps, schema_editor, models.CharField, huiqi.core.fields.CodeField)


def backward(apps, schema_editor):
    _alter(apps, schema_editor, huiqi.core.fields.CodeField, models.CharField)


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0008_loan_start_index_removed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='loan',
                    name='borrower_id',
                    field=huiqi.core.fields.CodeField(max_length=18,
                                                      verbose_name='借款人证件号码 borrower ID'),
                ),
                migrations.AlterField(
                    model_name='loan',
                    name='loan_no',
                    field=huiqi.core.fields.CodeField(max_length=64,
                                                      verbose_name='贷款合同编号 loan number'),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
