from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "mita.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from mita.customers import (  # noqa: F401  (registrations)
            bench,
            bench_import,
            customer_panels,
            demo,
            lifecycle,
            messages,
            navigation,
            search,
            tasks,
        )

        customer_panels.register()
