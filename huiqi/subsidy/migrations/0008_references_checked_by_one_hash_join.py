"""The per-statement checks of ``subsidy.0005`` look for the smallest missing loan or batch, not the first
(``core.references.Reference.exists_function``): with ``LIMIT 1`` the planner probed the loans' index once
per line of a run, 300,000 times; now it hashes the loans once. The same guarantee, so going back keeps
the new functions."""

from django.db import migrations

from huiqi.core.references import Reference, exists_functions_replaced

REFERENCES = (
    Reference("subsidy_line_loan", "subsidy_subsidyloanline", "loan_id", "lending_loan"),
    Reference("subsidy_line_batch", "subsidy_subsidyloanline", "batch_id", "subsidy_subsidybatch"),
    Reference("subsidy_payment_batch", "subsidy_subsidypayment", "batch_id", "subsidy_subsidybatch"),
)
forward, backward = exists_functions_replaced(*REFERENCES)


class Migration(migrations.Migration):

    dependencies = [
        ('subsidy', '0007_no_beneficiary_index_per_line'),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
