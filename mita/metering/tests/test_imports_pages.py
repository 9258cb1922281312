"""The reading files' pages and API: a billing officer uploads, reads the check, confirms and reads the report; the
same file again is recognised; the reading book export; bad input is a 4xx saying what to fix; other roles get 403
and another operator's import is a 404."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mita.accounts.roles import Role
from mita.customers.services_places import route_create
from mita.metering.models import Reading, ReadingImport
from mita.metering.reading_imports import reading_import_check
from mita.metering.tests.world import metered_connection
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

D = Decimal
FILE = b"connection_number,index,read_on\nAAL-0001,112,2026-01-28\nAAL-0404,5,2026-01-28\n"


def upload(content: bytes = FILE, name: str = "readings.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def installation(operator_a):
    return metered_connection(operator_a, number="AAL-0001", serial="30001", initial_index=D(100))


def test_a_billing_officer_uploads_checks_confirms_and_reads_the_report(operator_a, staff_a, installation, client_for):
    client = client_for(staff_a)
    assert client.get("/metering/reading-imports/").status_code == 200
    assert client.get("/metering/reading-imports/new/").status_code == 200
    # when the file is uploaded, the check shows the bad row and records nothing
    response = client.post("/metering/reading-imports/new/", {"file": upload()})
    assert response.status_code == 302
    reading_import = ReadingImport.objects.get(operator=operator_a)
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="reading-import-row-3"' in page and "AAL-0404" in page
    assert Reading.objects.filter(source="import").count() == 0
    # when it is confirmed, the reading is recorded and the report shows it
    response = client.post(f"/metering/reading-imports/{reading_import.pk}/confirm/")
    assert response.status_code == 302
    page = client.get(f"/metering/reading-imports/{reading_import.pk}/").content.decode()
    assert 'data-status="done"' in page
    assert 'data-testid="count-created">1<' in page
    assert Reading.objects.get(source="import").current_index == D(112)
    report = client.get(f"/metering/reading-imports/{reading_import.pk}/report.csv")
    assert report.status_code == 200 and "AAL-0404" in report.content.decode()
    # and the list shows the file
    assert "readings.csv" in client.get("/metering/reading-imports/").content.decode()


def test_the_same_file_uploaded_again_says_it_was_imported_before(operator_a, staff_a, installation, client_for):
    client = client_for(staff_a)
    first = client.post("/metering/reading-imports/new/", {"file": upload()})
    client.post(first["Location"] + "confirm/")
    again = client.post("/metering/reading-imports/new/", {"file": upload(name="same-again.csv")})
    page = client.get(again["Location"]).content.decode()
    assert 'data-testid="reading-import-earlier"' in page and first["Location"] in page
    client.post(again["Location"] + "confirm/")
    second = ReadingImport.objects.filter(operator=operator_a).latest("pk")
    assert (second.rows_created, second.rows_replayed) == (0, 1)


def test_a_file_that_cannot_be_read_is_an_error_next_to_the_file_field(operator_a, staff_a, client_for):
    response = client_for(staff_a).post(
        "/metering/reading-imports/new/", {"file": upload(b"name,phone\nx,y\n", name="x.csv")}
    )
    assert response.status_code == 400
    assert "Required columns are missing" in response.content.decode()
    assert not ReadingImport.objects.exists()


def test_the_reading_book_page_exports_csv_and_xlsx_and_checks_the_cycle(operator_a, staff_a, installation, client_for):
    route = route_create(operator=operator_a, code="R1", name="Route one", acting_user=None)
    connection = installation.connection
    connection.route, connection.reading_sequence = route, 1
    connection.save(update_fields=["route", "reading_sequence"])
    client = client_for(staff_a)
    assert client.get("/metering/reading-books/").status_code == 200
    response = client.get("/metering/reading-books/", {"route": route.pk, "cycle": "2026-01", "file_format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["route"], row["connection_number"], row["previous_index"]) for row in rows] == [
        ("R1", "AAL-0001", "100")
    ]
    xlsx = client.get("/metering/reading-books/", {"cycle": "2026-01", "file_format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    bad = client.get("/metering/reading-books/", {"cycle": "January", "file_format": "csv"})
    assert bad.status_code == 400 and "YYYY-MM" in bad.content.decode()


def test_the_api_uploads_confirms_and_reads_an_import(operator_a, staff_a, installation, client_for):
    client = client_for(staff_a)
    response = client.post("/api/v1/reading-imports", {"file": upload()})
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["rows_valid"], body["rows_error"]) == ("checked", 1, 1)
    assert body["rows_to_see"][0]["row"] == 3 and body["rows_to_see"][0]["errors"][0]["column"] == "connection_number"
    response = client.post(f"/api/v1/reading-imports/{body['id']}/confirm")
    assert response.status_code == 202
    done = client.get(f"/api/v1/reading-imports/{body['id']}").json()
    assert (done["status"], done["rows_created"], done["rows_replayed"]) == ("done", 1, 0)
    again = client.post(f"/api/v1/reading-imports/{body['id']}/confirm")
    assert again.status_code == 409 and again.json()["error"]["code"] == "import_done"


def test_the_api_refuses_a_bad_file_and_a_bad_book_request_with_what_to_fix(operator_a, staff_a, client_for):
    client = client_for(staff_a)
    response = client.post("/api/v1/reading-imports", {"file": upload(b"", name="empty.csv")})
    assert response.status_code == 400 and response.json()["error"]["code"] == "import_empty"
    assert client.get("/api/v1/reading-books", {"cycle": "2026-1"}).json()["error"]["code"] == "cycle_invalid"
    assert client.get("/api/v1/reading-books", {"cycle": "2026-01", "format": "pdf"}).status_code == 400
    assert client.get("/api/v1/reading-books", {"cycle": "2026-01", "route": "NOPE"}).status_code == 404


def test_the_api_exports_a_reading_book_by_route_code(operator_a, staff_a, installation, client_for):
    route = route_create(operator=operator_a, code="R7", name="Route seven", acting_user=None)
    connection = installation.connection
    connection.route, connection.reading_sequence = route, 3
    connection.save(update_fields=["route", "reading_sequence"])
    response = client_for(staff_a).get("/api/v1/reading-books", {"cycle": "2026-02", "route": "r7", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(row["sequence"], row["connection_number"], row["cycle"], row["index"]) for row in rows] == [
        ("3", "AAL-0001", "2026-02", "")
    ]


def test_other_roles_may_not_import_readings(operator_a, client_for):
    cashier = client_for(member(Role.CASHIER, operator_a))
    assert cashier.get("/metering/reading-imports/").status_code == 403
    assert cashier.get("/metering/reading-books/").status_code == 403
    assert cashier.post("/api/v1/reading-imports", {"file": upload()}).status_code == 403
    assert cashier.get("/api/v1/reading-books", {"cycle": "2026-01"}).status_code == 403


def test_another_operators_import_is_404_on_pages_and_api(operator_a, installation, admin_b, client_for):
    reading_import = reading_import_check(operator=operator_a, acting_user=None, file_name="a.csv", content=FILE)
    outsider = client_for(admin_b)
    for url in (
        f"/metering/reading-imports/{reading_import.pk}/",
        f"/metering/reading-imports/{reading_import.pk}/report.csv",
        f"/api/v1/reading-imports/{reading_import.pk}",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/metering/reading-imports/{reading_import.pk}/confirm/").status_code == 404
    assert outsider.post(f"/api/v1/reading-imports/{reading_import.pk}/confirm").status_code == 404
    assert "a.csv" not in outsider.get("/metering/reading-imports/").content.decode()
    # and operator A's book is not theirs to export: their own book has none of A's connections
    book = outsider.get("/api/v1/reading-books", {"cycle": "2026-01"}).content.decode("utf-8-sig")
    assert "AAL-0001" not in book
    assert ReadingImport.objects.get(pk=reading_import.pk).status == "checked"
