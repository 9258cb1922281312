from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "mita.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from mita.payments import bench, demo, navigation, receivers, tasks, termination  # noqa: F401  (registrations)
