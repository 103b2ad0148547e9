"""The bank ledger's bulk engine: large, clean CSV files of loans and payments read by columns, checked
on whole columns and stored set-based with PostgreSQL's binary COPY. It serves the ledger's importers
alone (``lending.imports``), through the one hook ``core.uploads.Importer.bulk_store``; the row path
of ``core.uploads`` remains the reference, and anything this engine is not sure of goes there.

``load``         ``ColumnarImporter``: the hooks a ledger importer implements, and the pass that runs
                 them (the file read, checked and written at the same time, batch by batch);
``columnar``     reading a CSV in typed batches exactly as the row path parses it (``CsvBatches``,
                 ``Declined``), a producer thread (``Prefetch``), COPY in and out of polars frames
                 (``copy_frame``, ``CopyStream``, ``read_query``);
``store``        ``upsert_frame``: checked batches stored into one table, replacements audited, bulk
                 loads under a table lock with their references checked once;
``pgbinary``     PostgreSQL's binary COPY format written from polars with numpy;
``identifiers``  the borrowers' USCCs and resident IDs checked on whole columns.

Why each piece is as it is: ``docs/decisions.md``, "Bank ledger imports" and "Bulk loads".
"""
