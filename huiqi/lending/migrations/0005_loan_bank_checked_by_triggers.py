"""A loan's bank is checked by triggers too, as migration 0004 does for a payment's loan, and the
loans' and payments' ids are drawn from their sequences 1,000 at a time (docs/decisions.md).

* The per-row foreign-key check from a loan to its bank was a third of a bulk load of loans; a
  statement that inserts or updates loans now ends with one check of its distinct bank ids, and a
  bank with loans cannot be deleted, nor its id changed, nor the banks truncated while loans remain
  (same locking as 0004: the deleting side takes a SHARE lock on the loans, in READ COMMITTED).
* ``CACHE 1000`` on the two identity sequences: a bulk load no longer updates the sequence once per
  row. Ids stay unique; they are no longer in insertion order across connections, and a connection
  that inserts leaves a gap of up to 1,000 ids. Nothing orders loans or payments by id.

On SQLite, altering the loan's column rebuilds ``lending_loan``, which cannot be done under triggers
that name it: 0004's triggers are dropped first and created again after, beside the bank ones. (A later
migration that rebuilds one of these tables on SQLite must do the same.)
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE FUNCTION lending_loan_banks_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM 1 FROM registry_bank b WHERE b.id IN (SELECT bank_id FROM new_rows) FOR KEY SHARE OF b;
    END IF;
    SELECT n.bank_id INTO missing FROM (SELECT DISTINCT bank_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM registry_bank b WHERE b.id = n.bank_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "lending_loan" violates its bank reference'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (bank_id)=(%s) is not present in table "registry_bank".', missing);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER lending_loan_banks_exist_insert AFTER INSERT ON lending_loan
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lending_loan_banks_exist();
CREATE TRIGGER lending_loan_banks_exist_update AFTER UPDATE ON lending_loan
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lending_loan_banks_exist();

CREATE FUNCTION lending_bank_keep_lent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id = NEW.id THEN
        RETURN NEW;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'banks are deleted (or their ids changed) only in READ COMMITTED transactions'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    LOCK TABLE lending_loan IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM lending_loan l WHERE l.bank_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "registry_bank" violates the reference from "lending_loan"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (id)=(%s) is still referenced from table "lending_loan".', OLD.id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER lending_bank_keep_lent_delete BEFORE DELETE ON registry_bank
    FOR EACH ROW EXECUTE FUNCTION lending_bank_keep_lent();
CREATE TRIGGER lending_bank_keep_lent_update BEFORE UPDATE OF id ON registry_bank
    FOR EACH ROW EXECUTE FUNCTION lending_bank_keep_lent();

CREATE FUNCTION lending_bank_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the banks are truncated only in READ COMMITTED transactions'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    LOCK TABLE lending_loan IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM lending_loan) THEN
        RAISE EXCEPTION 'cannot truncate "registry_bank": "lending_loan" still refers to it'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER lending_bank_truncated AFTER TRUNCATE ON registry_bank
    FOR EACH STATEMENT EXECUTE FUNCTION lending_bank_truncated();

ALTER TABLE lending_loan ALTER COLUMN id SET CACHE 1000;
ALTER TABLE lending_interestpayment ALTER COLUMN id SET CACHE 1000;
"""

PG_BACKWARD = """
ALTER TABLE lending_interestpayment ALTER COLUMN id SET CACHE 1;
ALTER TABLE lending_loan ALTER COLUMN id SET CACHE 1;
DROP TRIGGER lending_bank_truncated ON registry_bank;
DROP FUNCTION lending_bank_truncated();
DROP TRIGGER lending_bank_keep_lent_update ON registry_bank;
DROP TRIGGER lending_bank_keep_lent_delete ON registry_bank;
DROP FUNCTION lending_bank_keep_lent();
DROP TRIGGER lending_loan_banks_exist_update ON lending_loan;
DROP TRIGGER lending_loan_banks_exist_insert ON lending_loan;
DROP FUNCTION lending_loan_banks_exist();
"""

_NO_BANK = "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: lending_loan.bank_id');"
_LENT = "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: registry_bank is referenced by lending_loan');"
_MISSING = "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: lending_interestpayment.loan_id');"
_PAID = "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: lending_loan is referenced by lending_interestpayment');"
# 0004's triggers, all of which name lending_loan: SQLite cannot rebuild that table under them, so they
# are dropped before the column's change and created again after it.
SQLITE_0004_TRIGGERS = {
    "lending_payment_loan_insert": "BEFORE INSERT ON lending_interestpayment WHEN NOT EXISTS (SELECT 1 FROM "
                                   "lending_loan WHERE id = NEW.loan_id) BEGIN " + _MISSING + " END",
    "lending_payment_loan_update": "BEFORE UPDATE OF loan_id ON lending_interestpayment WHEN NOT EXISTS (SELECT 1 "
                                   "FROM lending_loan WHERE id = NEW.loan_id) BEGIN " + _MISSING + " END",
    "lending_loan_keep_paid_delete": "BEFORE DELETE ON lending_loan WHEN EXISTS (SELECT 1 FROM lending_interestpayment "
                                     "WHERE loan_id = OLD.id) BEGIN " + _PAID + " END",
    "lending_loan_keep_paid_update": "BEFORE UPDATE OF id ON lending_loan WHEN OLD.id <> NEW.id AND EXISTS (SELECT 1 "
                                     "FROM lending_interestpayment WHERE loan_id = OLD.id) BEGIN " + _PAID + " END",
}
SQLITE_BANK_TRIGGERS = {
    "lending_loan_bank_insert": "BEFORE INSERT ON lending_loan WHEN NOT EXISTS (SELECT 1 FROM registry_bank "
                                "WHERE id = NEW.bank_id) BEGIN " + _NO_BANK + " END",
    "lending_loan_bank_update": "BEFORE UPDATE OF bank_id ON lending_loan WHEN NOT EXISTS (SELECT 1 FROM registry_bank "
                                "WHERE id = NEW.bank_id) BEGIN " + _NO_BANK + " END",
    "lending_bank_keep_lent_delete": "BEFORE DELETE ON registry_bank WHEN EXISTS (SELECT 1 FROM lending_loan "
                                     "WHERE bank_id = OLD.id) BEGIN " + _LENT + " END",
    "lending_bank_keep_lent_update": "BEFORE UPDATE OF id ON registry_bank WHEN OLD.id <> NEW.id AND EXISTS "
                                     "(SELECT 1 FROM lending_loan WHERE bank_id = OLD.id) BEGIN " + _LENT + " END",
}


def _sqlite_create(schema_editor, triggers):
    for name, body in triggers.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"CREATE TRIGGER {name} {body}")


def _sqlite_drop(schema_editor, triggers):
    for name in triggers:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def sqlite_0004_off(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _sqlite_drop(schema_editor, SQLITE_0004_TRIGGERS)


def sqlite_0004_on(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _sqlite_create(schema_editor, SQLITE_0004_TRIGGERS)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, None)
    elif vendor == "sqlite":
        _sqlite_create(schema_editor, {**SQLITE_0004_TRIGGERS, **SQLITE_BANK_TRIGGERS})
    else:
        raise NotImplementedError(f"no reference triggers for {vendor}")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, None)
    elif vendor == "sqlite":
        _sqlite_drop(schema_editor, {**SQLITE_0004_TRIGGERS, **SQLITE_BANK_TRIGGERS})


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0004_payment_loan_checked_by_triggers'),
        ('registry', '0005_translated_labels'),
    ]

    operations = [
        migrations.RunPython(sqlite_0004_off, sqlite_0004_on),
        migrations.AlterField(
            model_name='loan',
            name='bank',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=models.deletion.PROTECT,
                                    to='registry.bank', verbose_name='银行 bank'),
        ),
        migrations.RunPython(forward, backward),
    ]
