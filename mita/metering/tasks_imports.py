"""Background work of the reading imports: recording a confirmed file (100,000 rows never run inside a request)."""

from django_tasks import task

from mita.metering import reading_imports


@task()
def reading_import_task(reading_import_id: int) -> int:
    """Record a checked file of readings; returns how many readings were recorded."""
    return reading_imports.reading_import_run(reading_import_id=reading_import_id).rows_created
