"""Background work of billing: a bill run's current step (compute, issue or publish), unit by unit."""

from django_tasks import task


@task()
def billrun_step(run_id: int) -> str:
    """Take the run's current step to its end; returns the run's status afterwards."""
    from django.conf import settings

    from mita.billing.models import BillRun
    from mita.billing.run import run_until_done

    run = BillRun.objects.get(pk=run_id)
    return str(run_until_done(run, workers=settings.MITA_BILLRUN_WORKERS).status)
