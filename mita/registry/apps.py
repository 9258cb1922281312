from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "mita.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from mita.registry import demo, navigation, navigation_contracts, tasks  # noqa: F401  (cards, search, demo, tasks)
