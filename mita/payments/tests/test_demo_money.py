"""The demo's money: every channel used, the reconciliation queue filled, a void, and a ledger that verifies."""

import io

import pytest
from django.core.management import call_command

from mita.customers.models import Connection, Customer
from mita.ledger.selectors import ledger_verify, trial_balance
from mita.notifications.models import OutboxMessage
from mita.payments.models import (
    Channel,
    MomoChannelConfig,
    MpesaChannelConfig,
    OnlineChannelConfig,
    Payment,
    Receipt,
)
from mita.registry.models import Operator

pytestmark = pytest.mark.django_db


def test_the_demo_has_money_through_every_channel_and_its_ledger_verifies(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo writes its logins there
    output = io.StringIO()
    call_command("demo", accounts=8, stdout=output)
    assert "the ledger verifies" in output.getvalue()
    assert ledger_verify() == []
    for name in ("Amazi Meza Ltd", "Kila Raipur Gram Panchayat Water Committee", "Izuba Mini-Grids"):
        operator = Operator.objects.get(name=name)
        payments = Payment.objects.filter(operator=operator)
        assert trial_balance(operator=operator) == 0
        assert payments.filter(status=Payment.Status.IN_SUSPENSE).count() == 1
        assert payments.filter(status=Payment.Status.VOIDED).count() == 1
        assert {Channel.CASH_OFFICE, Channel.CASH_FIELD, Channel.BANK, Channel.MOMO} <= set(
            payments.values_list("channel", flat=True)
        )
        numbers = sorted(Receipt.objects.filter(operator=operator).values_list("sequence_number", flat=True))
        assert numbers == list(range(1, payments.count() + 1))
    call_command("ledger", "verify", stdout=io.StringIO())
    # mobile money and online payments are switched on, so that the demo's fakes take payments end to end
    assert MomoChannelConfig.objects.filter(enabled=True).count() == 3
    assert OnlineChannelConfig.objects.filter(enabled=True).count() == 3
    assert MpesaChannelConfig.objects.get().operator.name == "Amazi Meza Ltd"
    # a customer stands behind every billed account, and the payment confirmations went to the customers' phones
    amazi = Operator.objects.get(name="Amazi Meza Ltd")
    # (the billed accounts: numbered below the customers the demo's bulk import adds, from <prefix>-100001, and not
    # servicing's applications for new connections, <prefix>-N-..., nor the connections of its other requests,
    # <prefix>-SV-...)
    connections = (
        Connection.objects.filter(operator=amazi, number__lt=f"{amazi.prefix}-100001")
        .exclude(number__contains="-N-")
        .exclude(number__contains="-SV-")
    )
    assert connections.count() == 8 and not connections.filter(customer__isnull=True).exists()
    # the second connection shares the first's phone
    assert Customer.objects.filter(operator=amazi, connections__in=connections).distinct().count() == 7
    assert OutboxMessage.objects.filter(to__startswith="+25072200").exists()
