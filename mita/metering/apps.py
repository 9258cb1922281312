from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "mita.metering"
    label = "metering"
    verbose_name = _("Metering")

    def ready(self) -> None:
        # Each part registers its home cards, panels, search sources, benchmarks and demo steps.
        from mita.metering import registrations  # noqa: F401
