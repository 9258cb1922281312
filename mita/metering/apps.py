from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    name = "mita.metering"
    label = "metering"
    verbose_name = _("Metering")
