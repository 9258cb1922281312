from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TariffsConfig(AppConfig):
    name = "mita.tariffs"
    label = "tariffs"
    verbose_name = _("Tariffs")

    def ready(self) -> None:
        from mita.tariffs import demo, navigation  # noqa: F401  (registrations)
