from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mita.core"
    label = "core"
    verbose_name = "Core"
