from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "huiqi.lending"
    label = "lending"
    verbose_name = "贷款台账 Loan ledger"
