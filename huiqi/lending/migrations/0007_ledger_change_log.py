"""A log of the statements that change what the interest subsidy reads (docs/decisions.md, "The ledger
snapshot").

On PostgreSQL every INSERT, UPDATE, DELETE or TRUNCATE of the loans and payments, every change of a
bank's code and of an enterprise's identifier, kind, size or name adds one row to
``lending_ledgerchange``, in the writing transaction. Rows are only ever added, so two snapshots of
the database see the same set of them (same count, same largest id) exactly when no such change
committed in between: the ledger snapshot is keyed by that. SQLite has no snapshot, hence no log.
"""

import django.utils.timezone
from django.db import migrations, models

TABLES = {  # table: the statements that change what the subsidy reads of it
    "lending_loan": "INSERT OR UPDATE OR DELETE",
    "lending_interestpayment": "INSERT OR UPDATE OR DELETE",
    "registry_bank": "UPDATE OF id, code",
    "registry_enterprise": "INSERT OR UPDATE OF uscc, kind, size_class, name OR DELETE",
}

PG_FORWARD = """
-- The ledger as it stands when the log starts is a version of its own.
INSERT INTO lending_ledgerchange (at, source) VALUES (now(), 'lending.0007');
CREATE FUNCTION lending_ledger_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lending_ledgerchange (at, source) VALUES (now(), TG_TABLE_NAME);
    RETURN NULL;
END $$;
""" + "".join(f"""
CREATE TRIGGER lending_ledger_changed AFTER {events} ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION lending_ledger_changed();
CREATE TRIGGER lending_ledger_truncated AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION lending_ledger_changed();
""" for table, events in TABLES.items())

PG_BACKWARD = "".join(f"""
DROP TRIGGER lending_ledger_truncated ON {table};
DROP TRIGGER lending_ledger_changed ON {table};
""" for table in TABLES) + "DROP FUNCTION lending_ledger_changed();"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, None)


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0006_sqlite_flush_order'),
        ('registry', '0005_translated_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now)),
                ('source', models.CharField(blank=True, max_length=63)),
            ],
            options={
                'verbose_name': '台账变更 ledger change',
                'verbose_name_plural': '台账变更 ledger changes',
            },
        ),
        migrations.RunPython(forward, backward),
    ]
