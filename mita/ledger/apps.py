from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "mita.ledger"
    label = "ledger"
    verbose_name = "Ledger"
