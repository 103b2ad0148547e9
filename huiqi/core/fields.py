"""Model fields of our own."""

from __future__ import annotations

from django.db import models


class CodeField(models.CharField):
    """A code or identifier (a loan number, a USCC, a resident ID): equal when its bytes are, sorted by
    them. On PostgreSQL the column gets the "C" collation unless ``db_collation`` names another: the
    database's default locale would sort a code as words, which nobody reads it as, and its indexes
    would take longer to build (docs/decisions.md, "Bulk loads: the file read, checked and written at
    the same time"). SQLite compares text byte by byte already (BINARY). The same code is equal under
    either collation: equality with a column of the default collation keeps working."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql" and not params.get("collation"):
            params["collation"] = "C"
        return params
