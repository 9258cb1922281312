"""Background work of the registry: the daily re-sync of every operator's licence with the licensing system."""

import datetime

from django_tasks import task

from mita.core.schedule import register_periodic
from mita.registry.services.licences import licences_sync_all


@task()
def licences_sync() -> dict[str, int]:
    return licences_sync_all()


register_periodic("registry.licences_sync", datetime.timedelta(days=1), licences_sync)
