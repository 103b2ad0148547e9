"""A reference between two tables checked once per statement instead of once per row.

PostgreSQL checks a foreign key once per written row (a query and a ``FOR KEY SHARE`` lock on the row it
names), which costs a bulk write more than the write itself; ``docs/decisions.md``, "Bank ledger imports:
the payment→loan and loan→bank references checked per statement", has the figures and the reasoning.
:func:`reference_sql` gives the triggers that hold the same guarantee set-based, for a migration that
first turns the constraint off (``db_constraint=False``; the ORM's ``CASCADE``/``PROTECT`` are unchanged):

* a statement that inserts or updates rows of ``child`` ends with one anti-join of its new rows (a
  transition table) against ``parent``; a row naming a missing parent fails the statement with SQLSTATE
  23503 (foreign_key_violation), as the constraint would;
* a ``parent`` row cannot be deleted, nor its id changed, while a ``child`` row names it, and ``TRUNCATE``
  of ``parent`` fails unless ``child`` is emptied by the same statement. The deleting transaction first
  takes a SHARE lock on ``child``: it waits for every transaction writing there and keeps new ones out
  until it ends, so its check sees every committed row. It must run in READ COMMITTED; a writer under
  REPEATABLE READ or SERIALIZABLE locks the parents it names (``FOR KEY SHARE``), as the constraint does.

SQLite (one writer at a time) gets row triggers refusing a missing parent. It keeps a referenced parent
by the ORM alone: Django empties SQLite tables one ``DELETE`` at a time in no fixed order, and a trigger
refusing the parent's deletion would stop it (``lending.0006``).

``lending.0004`` and ``lending.0005`` wrote the first such triggers out by hand; later references use this.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reference:
    """``child.column`` names a row of ``parent`` by its ``id``; ``name`` prefixes the triggers' names."""

    name: str
    child: str
    column: str
    parent: str

    def exists_function(self, create: str = "CREATE") -> str:
        """The statement trigger's function: one anti-join of the statement's new rows against ``parent``.

        The smallest missing id is looked for (an aggregate), not the first (``LIMIT 1``): with a limit the
        planner expects to stop early and probes the parent's index once per row, the whole statement when
        nothing is missing, which is the usual case; the aggregate lets it hash the parent once (a batch's
        300,000 lines: about half the check's time)."""
        n, child, col, parent = self.name, self.child, self.column, self.parent
        return f"""
{create} FUNCTION {n}_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM 1 FROM {parent} p WHERE p.id IN (SELECT {col} FROM new_rows) FOR KEY SHARE OF p;
    END IF;
    {self._smallest_missing("new_rows", " INTO missing")};
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '{self._violation()}'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('{self._detail("%s")}', missing);
    END IF;
    RETURN NULL;
END $$;
"""

    def _smallest_missing(self, rows: str, into: str = "") -> str:
        col, parent = self.column, self.parent
        return (f"SELECT min(r.{col}){into} FROM {rows} r\n"
                f"     WHERE r.{col} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {parent} p WHERE p.id = r.{col})")

    def _violation(self) -> str:
        return f'insert or update on table "{self.child}" violates its reference to "{self.parent}"'

    def _detail(self, key) -> str:
        return f'Key ({self.column})=({key}) is not present in table "{self.parent}".'

    def check_rows(self, cursor, rows: str) -> None:
        """The statement trigger's check run on the rows of the table ``rows`` (a new partition of ``child``,
        written bare and not attached yet): the same anti-join, the same lock on the parents outside READ
        COMMITTED, :class:`django.db.IntegrityError` with the trigger's message if a row names a missing
        parent. Run it after taking a lock on ``child`` that a parent's delete waits for (its trigger takes
        SHARE): a delete that went before is then seen by the check, one that comes after sees the rows."""
        from django.db import IntegrityError

        col, parent = self.column, self.parent
        cursor.execute("SELECT current_setting('transaction_isolation')")
        if cursor.fetchone()[0] != "read committed":
            cursor.execute(f"SELECT 1 FROM {parent} p WHERE p.id IN (SELECT {col} FROM {rows}) "
                           f"FOR KEY SHARE OF p")
        cursor.execute(self._smallest_missing(rows))
        missing = cursor.fetchone()[0]
        if missing is not None:
            raise IntegrityError(f"{self._violation()}\nDETAIL:  {self._detail(missing)}")

    def postgresql(self) -> tuple[str, str]:
        """(forward, backward) SQL."""
        n, child, col, parent = self.name, self.child, self.column, self.parent
        forward = self.exists_function() + f"""CREATE TRIGGER {n}_exists_insert AFTER INSERT ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {n}_exists();
CREATE TRIGGER {n}_exists_update AFTER UPDATE ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {n}_exists();

CREATE FUNCTION {n}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id = NEW.id THEN
        RETURN NEW;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rows of "{parent}" are deleted (or their ids changed) only in READ COMMITTED transactions'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    LOCK TABLE {child} IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM {child} c WHERE c.{col} = OLD.id) THEN
        RAISE EXCEPTION 'update or delete on table "{parent}" violates the reference from "{child}"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key (id)=(%s) is still referenced from table "{child}".', OLD.id);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER {n}_keep_delete BEFORE DELETE ON {parent} FOR EACH ROW EXECUTE FUNCTION {n}_keep();
CREATE TRIGGER {n}_keep_update BEFORE UPDATE OF id ON {parent} FOR EACH ROW EXECUTE FUNCTION {n}_keep();

CREATE FUNCTION {n}_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '"{parent}" is truncated only in READ COMMITTED transactions'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    LOCK TABLE {child} IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM {child}) THEN
        RAISE EXCEPTION 'cannot truncate "{parent}": "{child}" still refers to it'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {n}_truncated AFTER TRUNCATE ON {parent} FOR EACH STATEMENT EXECUTE FUNCTION {n}_truncated();
"""
        backward = f"""
DROP TRIGGER {n}_truncated ON {parent};
DROP FUNCTION {n}_truncated();
DROP TRIGGER {n}_keep_update ON {parent};
DROP TRIGGER {n}_keep_delete ON {parent};
DROP FUNCTION {n}_keep();
DROP TRIGGER {n}_exists_update ON {child};
DROP TRIGGER {n}_exists_insert ON {child};
DROP FUNCTION {n}_exists();
"""
        return forward, backward

    def sqlite(self) -> tuple[list[str], list[str]]:
        """(forward, backward) statements."""
        n, child, col, parent = self.name, self.child, self.column, self.parent
        fail = f"SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {child}.{col}');"
        forward = [
            f"CREATE TRIGGER {n}_exists_insert BEFORE INSERT ON {child} WHEN NEW.{col} IS NOT NULL AND "
            f"NOT EXISTS (SELECT 1 FROM {parent} WHERE id = NEW.{col}) BEGIN {fail} END",
            f"CREATE TRIGGER {n}_exists_update BEFORE UPDATE OF {col} ON {child} WHEN NEW.{col} IS NOT NULL AND "
            f"NOT EXISTS (SELECT 1 FROM {parent} WHERE id = NEW.{col}) BEGIN {fail} END",
        ]
        return forward, [f"DROP TRIGGER {n}_exists_insert", f"DROP TRIGGER {n}_exists_update"]


def checked_per_statement(*references: Reference):
    """(forward, backward) functions for ``migrations.RunPython`` that put in (take out) the triggers of
    ``references`` on PostgreSQL or SQLite."""

    def forward(apps, schema_editor):
        _run(schema_editor, references, 0)

    def backward(apps, schema_editor):
        _run(schema_editor, tuple(reversed(references)), 1)

    return forward, backward


def exists_functions_replaced(*references: Reference):
    """(forward, backward) functions for ``migrations.RunPython`` that replace the PostgreSQL functions
    checking ``references``' new rows by :meth:`Reference.exists_function` (for triggers made before it
    changed; the same guarantee, so going back keeps the new ones)."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for reference in references:
                schema_editor.execute(reference.exists_function("CREATE OR REPLACE"), None)

    def backward(apps, schema_editor):
        pass

    return forward, backward


def _run(schema_editor, references, which: int) -> None:
    vendor = schema_editor.connection.vendor
    for reference in references:
        if vendor == "postgresql":
            schema_editor.execute(reference.postgresql()[which], None)
        elif vendor == "sqlite":
            for statement in reference.sqlite()[which]:
                schema_editor.execute(statement)
        else:  # pragma: no cover - the project runs on SQLite and PostgreSQL
            raise NotImplementedError(f"no reference triggers for {vendor}")
