from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "mita.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from mita.payments import bench, demo, navigation, panels, receivers, tasks, termination  # noqa: F401  (registrations)

        panels.register()  # the payments panels of the customer 360 page
