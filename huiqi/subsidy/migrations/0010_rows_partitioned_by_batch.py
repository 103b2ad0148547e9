"""On PostgreSQL a batch's loan lines and payments each go into a partition of their own (``LIST
(batch_id)``): a run writes its rows into a bare table and attaches it, its indexes built once by sorting
and its loans checked by one join, instead of every row entering the indexes of every earlier batch's rows
(``huiqi.subsidy.partitions``). Every batch
already recorded gets its partition with its rows. The models do not change: the partitioned tables have
the same columns, constraints, indexes and triggers, but for the primary key on ``id``, which a table
partitioned by batch cannot have (a plain index, the identity sequence keeping ids unique). SQLite keeps
plain tables."""

from django.db import migrations

from huiqi.subsidy.partitions import BY_BATCH, partition_by_batch, unpartitioned


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in BY_BATCH:
            partition_by_batch(schema_editor, table)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in BY_BATCH:
            unpartitioned(schema_editor, table)


class Migration(migrations.Migration):

    dependencies = [
        ('subsidy', '0009_reconciler_indexed_where_set'),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
