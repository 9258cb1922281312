"""Background work of the customers app: a bulk import's run (large files take minutes; the page polls it)."""

from django_tasks import task

from mita.customers import imports


@task()
def customers_import_run(batch_id: int) -> int:
    """Import a previewed batch; returns how many rows were imported."""
    return imports.import_batch_run(batch_id=batch_id).rows_imported
