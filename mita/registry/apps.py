from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "mita.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from mita.registry import demo, navigation, navigation_clusters, navigation_contracts, tasks  # noqa: F401
