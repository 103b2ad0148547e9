"""On PostgreSQL TRUNCATE of the audit records is refused too, as UPDATE and DELETE are (0002).

A statement trigger, since row triggers do not fire on TRUNCATE. The one way through is a session
setting, ``huiqi.allow_audit_truncate = on``, which only the test suite's databases carry (their reset
between tests is a TRUNCATE of every table; see the root ``conftest.py``)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION huiqi_audit_no_truncate() RETURNS trigger AS $$
BEGIN
  IF coalesce(current_setting('huiqi.allow_audit_truncate', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit records are append-only (core_auditevent): TRUNCATE refused';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION huiqi_audit_no_truncate();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;
DROP FUNCTION IF EXISTS huiqi_audit_no_truncate();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_job_lease")]
    operations = [migrations.RunPython(forward, backward)]
