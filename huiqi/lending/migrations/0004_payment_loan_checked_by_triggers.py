"""A payment's loan is checked by triggers instead of a foreign-key constraint (docs/decisions.md,
"Bank ledger imports: the payment→loan reference checked per statement").

PostgreSQL's foreign-key check runs once per inserted row (a query and a ``FOR KEY SHARE`` lock on the
loan each time), which cost a bulk load more than its COPY (the figures are in that section). The same
guarantee, in both directions, set-based:

* a statement that inserts or updates payments ends with one anti-join of its new rows against the
  loans (a transition table); any payment whose loan is not there fails the statement with SQLSTATE
  23503 (foreign_key_violation), as the constraint would;
* a loan cannot be deleted, nor its id changed, while a payment refers to it, and ``TRUNCATE`` of the
  loans fails unless the payments are emptied in the same statement. The deleting transaction first
  takes a SHARE lock on the payments: it waits for every transaction writing payments to finish and
  keeps new ones out until it ends, so its check sees every committed payment.

The deleting side needs READ COMMITTED (its check must see payments committed while it waited); a
payment writer under REPEATABLE READ or SERIALIZABLE also locks the loans it refers to (``FOR KEY
SHARE``, as the constraint does), so that a loan deleted after its snapshot is a serialization failure.

SQLite gets the same checks as row triggers (SQLite has one writer at a time).
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE FUNCTION lending_payment_loans_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- The snapshot may be older than a loan's deletion: lock the loans as the constraint would, so
        -- that a loan deleted since is a serialization failure, not a silent orphan.
        PERFORM 1 FROM lending_loan l WHERE l.id IN (SELECT loan_id FROM new_rows) FOR KEY SHARE OF l;
    END IF;
    SELECT n.loan_id INTO missing FROM new_rows n
     WHERE NOT EXISTS (SELECT 1 FROM lending_loan l WHERE l.id = n.loan_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "lending_interestpayment" violates its loan reference'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (loan_id)=(%s) is not present in table "lending_loan".', missing);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER lending_payment_loans_exist_insert AFTER INSERT ON lending_interestpayment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lending_payment_loans_exist();
CREATE TRIGGER lending_payment_loans_exist_update AFTER UPDATE ON lending_interestpayment
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lending_payment_loans_exist();

CREATE FUNCTION lending_loan_keep_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id = NEW.id THEN
        RETURN NEW;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'loans are deleted (or their ids changed) only in READ COMMITTED transactions'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Wait for the transactions writing payments and keep new ones out until this one ends; each
    -- statement of this function then sees every payment committed meanwhile.
    LOCK TABLE lending_interestpayment IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM lending_interestpayment p WHERE p.loan_id = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "lending_loan" violates the reference from "lending_interestpayment"'
            USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key (id)=(%s) is still referenced from table "lending_interestpayment".', OLD.id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER lending_loan_keep_paid_delete BEFORE DELETE ON lending_loan
    FOR EACH ROW EXECUTE FUNCTION lending_loan_keep_paid();
CREATE TRIGGER lending_loan_keep_paid_update BEFORE UPDATE OF id ON lending_loan
    FOR EACH ROW EXECUTE FUNCTION lending_loan_keep_paid();

CREATE FUNCTION lending_loan_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the loans are truncated only in READ COMMITTED transactions'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    LOCK TABLE lending_interestpayment IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM lending_interestpayment) THEN
        RAISE EXCEPTION 'cannot truncate "lending_loan": "lending_interestpayment" still refers to it'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER lending_loan_truncated AFTER TRUNCATE ON lending_loan
    FOR EACH STATEMENT EXECUTE FUNCTION lending_loan_truncated();
"""

PG_BACKWARD = """
DROP TRIGGER lending_loan_truncated ON lending_loan;
DROP FUNCTION lending_loan_truncated();
DROP TRIGGER lending_loan_keep_paid_update ON lending_loan;
DROP TRIGGER lending_loan_keep_paid_delete ON lending_loan;
DROP FUNCTION lending_loan_keep_paid();
DROP TRIGGER lending_payment_loans_exist_update ON lending_interestpayment;
DROP TRIGGER lending_payment_loans_exist_insert ON lending_interestpayment;
DROP FUNCTION lending_payment_loans_exist();
"""

_MISSING = "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: lending_interestpayment.loan_id');"
_PAID = "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: lending_loan is referenced by lending_interestpayment');"
SQLITE_FORWARD = [
    "CREATE TRIGGER lending_payment_loan_insert BEFORE INSERT ON lending_interestpayment "
    "WHEN NOT EXISTS (SELECT 1 FROM lending_loan WHERE id = NEW.loan_id) BEGIN " + _MISSING + " END",
    "CREATE TRIGGER lending_payment_loan_update BEFORE UPDATE OF loan_id ON lending_interestpayment "
    "WHEN NOT EXISTS (SELECT 1 FROM lending_loan WHERE id = NEW.loan_id) BEGIN " + _MISSING + " END",
    "CREATE TRIGGER lending_loan_keep_paid_delete BEFORE DELETE ON lending_loan "
    "WHEN EXISTS (SELECT 1 FROM lending_interestpayment WHERE loan_id = OLD.id) BEGIN " + _PAID + " END",
    "CREATE TRIGGER lending_loan_keep_paid_update BEFORE UPDATE OF id ON lending_loan "
    "WHEN OLD.id <> NEW.id AND EXISTS (SELECT 1 FROM lending_interestpayment WHERE loan_id = OLD.id) "
    "BEGIN " + _PAID + " END",
]
SQLITE_BACKWARD = [f"DROP TRIGGER {name}" for name in (
    "lending_payment_loan_insert", "lending_payment_loan_update", "lending_loan_keep_paid_delete",
    "lending_loan_keep_paid_update")]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)
    else:
        raise NotImplementedError(f"no reference triggers for {vendor}")


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('lending', '0003_borrower_index_without_pattern_ops'),
    ]

    operations = [
        migrations.AlterField(
            model_name='interestpayment',
            name='loan',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=models.deletion.CASCADE,
                                    related_name='payments', to='lending.loan'),
        ),
        migrations.RunPython(forward, backward),
    ]
