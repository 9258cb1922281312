from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mita.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from mita.accounts import navigation  # noqa: F401  (registers cards and search)
