from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "mita.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from mita.customers import bench, customer_panels, demo, lifecycle, messages, navigation, search  # noqa: F401  (registrations)

        customer_panels.register()
