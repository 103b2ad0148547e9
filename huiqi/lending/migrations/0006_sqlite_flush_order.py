"""SQLite: no triggers refusing the deletion of a referenced loan or bank.

On SQLite, Django empties the tables (``flush``, and the test database between tests) with one
``DELETE`` per table in no fixed order; a foreign key was checked at commit, so the order did not
matter, but a ``BEFORE DELETE`` trigger fires at once and stopped the flush whenever the loans were
emptied before their payments (or the banks before their loans). On SQLite, the embedded development
database, a referenced loan or bank is therefore kept by the ORM alone (``CASCADE`` / ``PROTECT``), as
any Django model is; a payment or loan that names a missing loan or bank is still refused there, and
PostgreSQL keeps every trigger (its flush is one ``TRUNCATE`` of all tables).
"""

import importlib

from django.db import migrations

_DELETE_TRIGGERS = ("lending_loan_keep_paid_delete", "lending_bank_keep_lent_delete")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in _DELETE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        previous = importlib.import_module("huiqi.lending.migrations.0005_loan_bank_checked_by_triggers")
        bodies = {**previous.SQLITE_0004_TRIGGERS, **previous.SQLITE_BANK_TRIGGERS}
        for name in _DELETE_TRIGGERS:
            schema_editor.execute(f"CREATE TRIGGER {name} {bodies[name]}")


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0005_loan_bank_checked_by_triggers'),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
