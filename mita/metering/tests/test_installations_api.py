"""The installations API: install, remove and replace a connection's meter (a replay answers with the first result, a
conflicting request is a 409), the installation history, one installation; roles and another operator's 404."""

import pytest

from mita.accounts.roles import Role
from mita.metering.models import Installation, Meter, MeterModel, Reading
from mita.metering.tests.world import meter_model_of, metered_connection, store_of
from mita.metering.tests.world_installations import bare_connection, meters_in_store, technician_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


INSTALL = {"serial": "WM-30001", "installed_on": "2026-03-01", "initial_index": "7"}


def test_installing_twice_with_the_same_body_is_one_installation_and_another_body_is_a_409(operator_a, client_for):
    connection = bare_connection(operator_a)
    meters_in_store(operator_a, "WM-30001", "WM-30002")
    client = client_for(technician_of(operator_a))
    url = f"/api/v1/connections/{connection.pk}/meter"
    # when the same installation is sent twice
    first = post(client, url, INSTALL)
    again = post(client, url, INSTALL | {"initial_index": "7.000"})
    # then one installation exists, returned both times (201 then 200)
    assert first.status_code == 201, first.json()
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    body = first.json()
    assert (body["meter_serial"], body["initial_index"], body["connection_number"]) == ("WM-30001", "7.000", "AAL-0101")
    assert Installation.objects.filter(connection=connection).count() == 1
    # and another meter on the same connection is a conflict that says what to do
    other = post(client, url, INSTALL | {"serial": "WM-30002"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "connection_has_meter"


def test_bad_input_is_a_4xx_naming_the_field(operator_a, client_for):
    connection = bare_connection(operator_a)
    meters_in_store(operator_a, "WM-30001")
    client = client_for(technician_of(operator_a))
    url = f"/api/v1/connections/{connection.pk}/meter"
    unknown = post(client, url, INSTALL | {"serial": "NOPE"})
    assert unknown.status_code == 400 and unknown.json()["error"]["fields"] == {"serial": ["Unknown serial."]}
    negative = post(client, url, INSTALL | {"initial_index": "-3"})
    assert negative.status_code == 400 and "initial_index" in negative.json()["error"]["fields"]
    garbage = post(client, url, INSTALL | {"initial_index": "twelve"})
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "index_invalid"
    missing = post(client, url, {"serial": "WM-30001"})
    assert missing.status_code == 422
    assert not Installation.objects.exists()


def test_two_brands_with_one_serial_need_the_brand(operator_a, client_for):
    connection = bare_connection(operator_a)
    meters_in_store(operator_a, "30001")  # brand Itron
    sensus = meter_model_of(operator_a, code="SEN")
    MeterModel.objects.filter(pk=sensus.pk).update(brand="Sensus")
    Meter.objects.create(
        operator=operator_a, meter_model=sensus, brand="Sensus", serial="30001", store=store_of(operator_a)
    )
    client = client_for(technician_of(operator_a))
    url = f"/api/v1/connections/{connection.pk}/meter"
    ambiguous = post(client, url, INSTALL | {"serial": "30001"})
    assert ambiguous.status_code == 400 and ambiguous.json()["error"]["code"] == "meter_ambiguous"
    chosen = post(client, url, INSTALL | {"serial": "30001", "brand": "sensus"})
    assert chosen.status_code == 201 and chosen.json()["meter_brand"] == "Sensus"


def test_remove_and_replace_through_the_api_with_replays(operator_a, client_for):
    # given meter 30001 installed at 0
    installation = metered_connection(operator_a, serial="30001")
    connection = installation.connection
    meters_in_store(operator_a, "WM-30002")
    store = store_of(operator_a)
    client = client_for(technician_of(operator_a))
    base = f"/api/v1/connections/{connection.pk}/meter"
    replace = {
        "replaced_on": "2026-03-12",
        "final_index": "47",
        "reason": "faulty",
        "store_id": store.pk,
        "serial": "WM-30002",
        "initial_index": "3",
    }
    # when it is replaced, twice with the same body
    first = post(client, f"{base}/replace", replace)
    again = post(client, f"{base}/replace", replace)
    assert first.status_code == 201, first.json()
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Reading.objects.filter(connection=connection, source=Reading.Source.REMOVAL).count() == 1
    # then the new meter is removed, twice with the same body
    remove = {"removed_on": "2026-03-20", "final_index": "9", "reason": "disconnection", "store_id": store.pk}
    removed = post(client, f"{base}/remove", remove)
    replayed = post(client, f"{base}/remove", remove)
    assert removed.status_code == 200 and removed.json()["removed_on"] == "2026-03-20"
    assert replayed.status_code == 200 and replayed.json()["id"] == removed.json()["id"]
    assert Meter.objects.get(serial="WM-30002").status == Meter.Status.IN_STORE
    # and a different removal now is a conflict, a store of nobody a 400
    conflict = post(client, f"{base}/remove", remove | {"final_index": "10"})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "no_meter"
    no_store = post(client, f"{base}/remove", remove | {"store_id": 999999})
    assert no_store.status_code == 400 and no_store.json()["error"]["code"] == "store_invalid"
    # and the history lists both meters, the newest first
    history = client.get(f"/api/v1/connections/{connection.pk}/installations").json()
    assert [item["meter_serial"] for item in history["items"]] == ["WM-30002", "30001"]
    one = client.get(f"/api/v1/installations/{installation.pk}").json()
    assert (one["final_index"], one["removal_reason"]) == ("47.000", "faulty")


def test_readers_read_installations_but_cannot_install(operator_a, client_for):
    installation = metered_connection(operator_a, serial="30001")
    reader = client_for(member(Role.BILLING_OFFICER, operator_a))
    assert reader.get(f"/api/v1/installations/{installation.pk}").status_code == 200
    refused = post(reader, f"/api/v1/connections/{installation.connection_id}/meter", INSTALL)
    assert refused.status_code == 403


def test_another_operator_gets_404_on_every_installation_endpoint(operator_a, admin_b, client_for):
    installation = metered_connection(operator_a, serial="30001")
    connection_id = installation.connection_id
    client = client_for(admin_b)
    assert client.get(f"/api/v1/installations/{installation.pk}").status_code == 404
    assert client.get(f"/api/v1/connections/{connection_id}/installations").status_code == 404
    assert post(client, f"/api/v1/connections/{connection_id}/meter", INSTALL).status_code == 404
    remove = {"removed_on": "2026-03-20", "final_index": "9", "reason": "faulty", "store_id": 1}
    assert post(client, f"/api/v1/connections/{connection_id}/meter/remove", remove).status_code == 404
    replace = remove | {"replaced_on": "2026-03-20", "serial": "X", "initial_index": "0"}
    assert post(client, f"/api/v1/connections/{connection_id}/meter/replace", replace).status_code == 404
    assert Installation.objects.get(pk=installation.pk).removed_on is None
