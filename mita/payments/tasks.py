"""Background work of payments: confirming MoMo requests whose callback never came."""

import datetime

from django_tasks import task

from mita.core.schedule import register_periodic
from mita.payments import momo, numbering
from mita.payments.mpesa_query import stk_poll


@task()
def momo_poll_pending() -> dict[str, int]:
    """Confirm the pending MoMo requests with MTN; MTN sends each callback once, so this completes the lost ones."""
    return momo.momo_poll().as_dict()


register_periodic("payments.momo_poll", datetime.timedelta(minutes=1), momo_poll_pending)


@task()
def receipts_number_waiting() -> dict[str, int]:
    """Number receipts left waiting by a crash between a payment's commit and its numbering (normally none)."""
    return {"numbered": numbering.receipts_number_all()}


register_periodic("payments.receipts_number", datetime.timedelta(minutes=1), receipts_number_waiting)


@task()
def mpesa_stk_poll_pending() -> dict[str, int]:
    """Query Daraja for the M-Pesa STK pushes whose result callback has not come (Safaricom sends it once)."""
    return stk_poll().as_dict()


register_periodic("payments.mpesa_stk_poll", datetime.timedelta(minutes=1), mpesa_stk_poll_pending)


@task()
def online_poll_pending() -> dict[str, int]:
    """Verify the pending online checkouts with the gateway: completes those whose webhook or customer never came."""
    from mita.payments import online  # here, so that each channel's task is a block of its own in this module

    return online.online_poll().as_dict()


register_periodic("payments.online_poll", datetime.timedelta(minutes=1), online_poll_pending)
