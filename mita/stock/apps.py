from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "mita.stock"
    label = "stock"
    verbose_name = "Stock"

    def ready(self) -> None:
        from mita.stock import navigation  # noqa: F401  (registrations)
