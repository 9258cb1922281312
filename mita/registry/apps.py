from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "mita.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from mita.registry import demo, navigation, tasks  # noqa: F401  (registers cards, search, demo steps, tasks)
