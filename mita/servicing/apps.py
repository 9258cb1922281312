from django.apps import AppConfig


class ServicingConfig(AppConfig):
    name = "mita.servicing"
    label = "servicing"
    verbose_name = "Service requests"

    def ready(self) -> None:
        from mita.servicing import demo, navigation, panels, receivers, tasks  # noqa: F401  (registrations)
        from mita.servicing.types import (  # noqa: F401  (the request types)
            complaint,
            disconnection,
            meter_transfer,
            new_connection,
            ownership_change,
            package_change,
            reconnection,
            termination,
        )

        panels.register()  # the servicing panels of the customer 360 page
