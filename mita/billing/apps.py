from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "mita.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        import mita.billing.registrations_corrections  # noqa: F401  (billing/corrections)
        from mita.billing import bench, demo, messages, navigation, tasks  # noqa: F401  (registrations)
