"""Background sending of the outbox."""

import datetime

from django_tasks import task

from mita.core.schedule import register_periodic
from mita.notifications import services


@task()
def outbox_send(message_id: int) -> None:
    services.message_send(message_id=message_id)


@task()
def outbox_sweep() -> int:
    return services.outbox_sweep()


register_periodic("notifications.outbox_sweep", datetime.timedelta(minutes=1), outbox_sweep)
