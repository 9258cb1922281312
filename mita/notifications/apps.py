from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "mita.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from mita.notifications import navigation, tasks  # noqa: F401  (registers cards and the periodic sweep)
