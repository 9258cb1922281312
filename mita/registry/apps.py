from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "mita.registry"
    label = "registry"
    verbose_name = "Registry"

    def ready(self) -> None:
        from mita.registry import demo, navigation  # noqa: F401  (registers cards, search and demo steps)
