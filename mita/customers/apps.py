from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "mita.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from mita.customers import bench, demo, navigation, tasks  # noqa: F401  (registrations)
