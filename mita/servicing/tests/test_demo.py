"""The demo's servicing: each operator has a catalogue, fees, terms, new connections and complaints in every state,
and the ledger still verifies."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from mita.customers.models import Connection
from mita.ledger.selectors import ledger_verify
from mita.registry.models import Operator
from mita.servicing.demo import COMPLAINT_STATES, CONNECTION_TYPE_STATES, NEW_CONNECTION_STATES
from mita.servicing.models import ServiceFee, ServiceRequest, TermsVersion
from mita.stock.models import Material

pytestmark = pytest.mark.django_db


def test_the_demo_has_requests_in_every_state_at_each_operator(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo", accounts=2, stdout=io.StringIO())
    assert ledger_verify() == []
    for name in ("Amazi Meza Ltd", "Kila Raipur Gram Panchayat Water Committee", "Izuba Mini-Grids"):
        operator = Operator.objects.get(name=name)
        requests = ServiceRequest.objects.filter(operator=operator)
        assert set(requests.filter(type="new_connection").values_list("state", flat=True)) == set(NEW_CONNECTION_STATES)
        assert set(requests.filter(type="complaint").values_list("state", flat=True)) == set(COMPLAINT_STATES)
        for key, states in CONNECTION_TYPE_STATES.items():
            assert set(requests.filter(type=key).values_list("state", flat=True)) == set(states), key
        moved = requests.get(type="meter_transfer", state="done")
        assert Decimal(moved.data["arrears_moved"]) > 0
        assert Connection.objects.get(pk=moved.connection_id).status == "terminated"
        reconnected = requests.get(type="reconnection", state="active")
        assert Connection.objects.get(pk=reconnected.connection_id).status == "active"
        assert Material.objects.filter(operator=operator).count() >= 5
        assert ServiceFee.objects.filter(operator=operator, active=True).exists()
        assert TermsVersion.objects.filter(operator=operator).exists()
        connected = requests.get(type="new_connection", state="active")
        assert Connection.objects.get(pk=connected.connection_id).status == "active"
