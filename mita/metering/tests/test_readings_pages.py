"""The reading entry page (find a connection by meter serial or connection number, enter its indexes, see the result)
and a reader's "My readings" page of the last five days."""

import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.metering.models import MeterState, Reading
from mita.metering.tests.readings_world import D, days_ago, metered, reader_of, today
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

URL = "/metering/readings/new/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _form(index="112", **fields):
    data = {
        "index_main": index,
        "read_on": today().isoformat(),
        "source": "manual",
        "reader_code": "",
        "note": "",
        "form_key": str(uuid.uuid4()),
    }
    data.update(fields)
    return data


def test_a_reader_finds_a_connection_by_meter_serial_and_sees_its_previous_index(operator_a, client_for):
    # given a connection whose meter 30001 was installed at index 100
    installation = metered(operator_a, number="AAL-0001", serial="SN-30001", customer_name="Jeanne Uwase")
    client = client_for(reader_of(operator_a))
    # when the reader looks the serial up, in lower case
    response = client.get(URL, {"q": "sn-30001"})
    # then they are taken straight to the connection, which shows the meter and its previous index and date
    assert response.status_code == 302
    assert response["Location"].endswith(f"?connection={installation.connection_id}")
    page = client.get(response["Location"]).content.decode()
    assert "AAL-0001" in page and "Jeanne Uwase" in page and "SN-30001" in page
    assert 'data-testid="previous-index-main">100<' in page
    assert days_ago(60).isoformat() in page


def test_a_connection_is_found_by_its_number_and_several_matches_are_listed(operator_a, client_for):
    metered(operator_a, number="AAL-0001", serial="SN-1")
    metered(operator_a, number="AAL-0002", serial="SN-2")
    client = client_for(reader_of(operator_a))
    # one number: straight to it
    assert client.get(URL, {"q": "aal-0002"}).status_code == 302
    # a prefix of both: a list to choose from
    page = client.get(URL, {"q": "AAL-000"}).content.decode()
    assert 'data-testid="reading-match-AAL-0001"' in page and 'data-testid="reading-match-AAL-0002"' in page
    # nothing: says so
    assert "reading-no-match" in client.get(URL, {"q": "nothing-like-it"}).content.decode()


def test_an_accepted_reading_shows_its_consumption_and_moves_the_index_on(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    reader = reader_of(operator_a)
    client = client_for(reader)
    # when the reader enters 112.5 over the previous 100
    response = client.post(f"{URL}?connection={installation.connection_id}", _form(index="112.5"))
    # then the page says it is accepted, with 12.5 m3
    assert response.status_code == 200
    page = response.content.decode()
    assert "Reading accepted" in page
    assert 'data-testid="reading-consumption-main">12.5 m3' in page
    reading = Reading.objects.get(connection_id=installation.connection_id, source="manual")
    assert (reading.status, reading.consumption, reading.reader_id) == ("accepted", D("12.5"), reader.pk)
    state = MeterState.objects.get(connection_id=installation.connection_id)
    assert (state.last_index, state.last_read_on) == (D("112.5"), today())
    # and it is audited
    assert AuditEntry.objects.filter(action="reading.recorded", target_id=str(reading.pk)).exists()


def test_a_zero_reading_is_sent_to_review_saying_why(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    response = client.post(f"{URL}?connection={installation.connection_id}", _form(index="100"))
    page = response.content.decode()
    assert "Sent to review: Zero consumption" in page
    assert Reading.objects.get(connection_id=installation.connection_id, source="manual").status == "review"


def test_submitting_the_same_form_twice_records_one_reading(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    form = _form(index="120")
    first = client.post(f"{URL}?connection={installation.connection_id}", form)
    second = client.post(f"{URL}?connection={installation.connection_id}", form)
    assert first.status_code == second.status_code == 200
    assert "already been sent" in second.content.decode()
    assert Reading.objects.filter(connection_id=installation.connection_id, source="manual").count() == 1
    # the same form sent again with another index is refused, nothing recorded
    third = client.post(f"{URL}?connection={installation.connection_id}", {**form, "index_main": "125"})
    assert third.status_code == 400
    assert "already sent with other values" in third.content.decode()
    assert Reading.objects.filter(connection_id=installation.connection_id, source="manual").count() == 1
    # and the form drawn again carries a new key, so that sending it again records the other reading
    assert f'value="{form["form_key"]}"' not in third.content.decode()


def test_a_readers_code_without_an_index_is_recorded_for_review(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    response = client.post(f"{URL}?connection={installation.connection_id}", _form(index="", reader_code="dog"))
    assert "Sent to review: Not read (reader&#x27;s code)" in response.content.decode()
    reading = Reading.objects.get(connection_id=installation.connection_id, source="manual")
    assert (reading.current_index, reading.reader_code, reading.anomaly) == (None, "dog", "reader_code")


def test_no_index_and_no_code_is_an_error_next_to_the_index(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    response = client.post(f"{URL}?connection={installation.connection_id}", _form(index=""))
    assert response.status_code == 400
    assert "Enter the index, or choose a reader" in response.content.decode()
    future = client.post(
        f"{URL}?connection={installation.connection_id}",
        _form(read_on=(today() + datetime.timedelta(days=1)).isoformat()),
    )
    assert future.status_code == 400
    assert "cannot be dated in the future" in future.content.decode()
    assert not Reading.objects.filter(source="manual").exists()


def test_a_photo_of_the_dial_is_kept_and_a_file_that_is_no_image_is_refused(operator_a, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    url = f"{URL}?connection={installation.connection_id}"
    # a text file named like a JPEG is refused by its bytes
    fake = SimpleUploadedFile("dial.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(url, {**_form(), "photo": fake})
    assert response.status_code == 400
    assert "must be a JPEG, PNG or WebP image" in response.content.decode()
    assert not Reading.objects.filter(source="manual").exists()
    # a PNG is kept with the reading
    response = client.post(url, {**_form(), "photo": SimpleUploadedFile("dial.bin", PNG)})
    assert response.status_code == 200
    reading = Reading.objects.get(source="manual")
    assert reading.photo.name.endswith(".png")
    assert reading.photo.read() == PNG
    # and it is shown from the result, as the PNG it is
    assert f"/metering/readings/{reading.pk}/photo/" in response.content.decode()
    photo = client.get(f"/metering/readings/{reading.pk}/photo/")
    assert (photo.status_code, photo["Content-Type"], photo.content) == (200, "image/png", PNG)


@override_settings(MITA_READING_PHOTO_MAX_BYTES=1024)
def test_a_photo_above_the_limit_is_refused(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    big = SimpleUploadedFile("dial.png", PNG + b"\x00" * 2048)
    response = client.post(f"{URL}?connection={installation.connection_id}", {**_form(), "photo": big})
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


def test_a_meter_with_two_registers_gets_an_index_each_with_its_multiplier(operator_a, client_for):
    installation = metered(
        operator_a,
        number="AAL-0009",
        serial="E-1",
        utility="electricity",
        registers=("active", "reactive"),
        multiplier=D(40),
    )
    client = client_for(reader_of(operator_a))
    form = _form(index_active="103", index_reactive="101")
    form.pop("index_main")
    response = client.post(f"{URL}?connection={installation.connection_id}", form)
    assert response.status_code == 200, response.content.decode()
    consumptions = dict(
        Reading.objects.filter(connection_id=installation.connection_id).values_list("register", "consumption")
    )
    assert consumptions == {"active": D(120), "reactive": D(40)}


def test_customer_care_records_only_what_the_customer_told(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    clerk = member(Role.CUSTOMER_CARE, operator_a, name="Cleo Care")
    client = client_for(clerk)
    url = f"{URL}?connection={installation.connection_id}"
    assert client.post(url, _form(source="manual")).status_code == 400
    assert client.post(url, _form(source="customer")).status_code == 200
    assert Reading.objects.get(connection_id=installation.connection_id, source="customer").reader_id == clerk.pk


def test_a_connection_without_a_meter_says_so_and_records_nothing(operator_a, client_for):
    from mita.customers.tests.world import connection_of, customer_of

    connection = connection_of(operator_a, customer_of(operator_a), number="AAL-0404")
    client = client_for(reader_of(operator_a))
    assert "reading-no-meter" in client.get(f"{URL}?connection={connection.pk}").content.decode()
    assert client.post(f"{URL}?connection={connection.pk}", _form()).status_code == 400
    assert not Reading.objects.exists()


def test_another_operators_reading_photo_and_a_reading_without_one_are_404(
    operator_a, admin_b, client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    url = f"{URL}?connection={installation.connection_id}"
    client.post(url, {**_form(), "photo": SimpleUploadedFile("dial.png", PNG)})
    with_photo = Reading.objects.get(source="manual")
    assert client_for(admin_b).get(f"/metering/readings/{with_photo.pk}/photo/").status_code == 404
    Reading.objects.filter(pk=with_photo.pk).update(photo="")
    assert client.get(f"/metering/readings/{with_photo.pk}/photo/").status_code == 404


def test_other_roles_and_other_operators_are_refused(operator_a, admin_b, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-SECRET")
    technician = member(Role.TECHNICIAN, operator_a)
    assert client_for(technician).get(URL).status_code == 403
    outsider = client_for(admin_b)
    # another operator's connection does not exist for them, nor does its meter's serial
    assert outsider.get(f"{URL}?connection={installation.connection_id}").status_code == 404
    assert outsider.post(f"{URL}?connection={installation.connection_id}", _form()).status_code == 404
    assert "reading-no-match" in outsider.get(URL, {"q": "SN-SECRET"}).content.decode()
    assert outsider.get(f"{URL}?connection=nonsense").status_code == 404
    assert not Reading.objects.filter(source="manual").exists()


def test_my_readings_shows_the_readers_own_records_of_the_last_five_days(operator_a, admin_b, client_for):
    from mita.metering.readings import ReadingInput, readings_record

    first = metered(operator_a, number="AAL-0001", serial="SN-1")
    second = metered(operator_a, number="AAL-0002", serial="SN-2")
    third = metered(operator_a, number="AAL-0003", serial="SN-3")
    reader, colleague = reader_of(operator_a), reader_of(operator_a, name="Colin Colleague")

    def record(installation, index, day, who):
        row = ReadingInput(
            connection_id=installation.connection_id, current_index=D(index), read_on=day, reader_id=who.pk
        )
        (result,) = readings_record(operator=operator_a, rows=[row], source="manual", acting_user=who)
        return result.reading

    old = record(first, 110, days_ago(9), reader)
    Reading.objects.filter(pk=old.pk).update(created_at=old.created_at - datetime.timedelta(days=9))
    recent = record(second, 130, days_ago(4), reader)
    zero = record(first, 110, today(), reader)  # zero consumption: waits for review
    theirs = record(third, 150, today(), colleague)
    page = client_for(reader).get("/metering/readings/mine/").content.decode()
    assert f"my-reading-{recent.pk}" in page and f"my-reading-{zero.pk}" in page
    assert f"my-reading-{old.pk}" not in page and f"my-reading-{theirs.pk}" not in page
    assert "1 waits for review." in page
    assert "Zero consumption" in page
    # another operator's admin sees none of them
    outsider = client_for(admin_b).get("/metering/readings/mine/").content.decode()
    assert "my-reading-" not in outsider


def test_a_reader_has_home_cards_to_enter_a_reading_and_see_theirs(operator_a, client_for):
    page = client_for(reader_of(operator_a)).get("/").content.decode()
    assert URL in page and "/metering/readings/mine/" in page
    page = client_for(member(Role.TECHNICIAN, operator_a)).get("/").content.decode()
    assert URL not in page
