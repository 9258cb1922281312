"""The bulk import of customers and connections: CSV (BOM, semicolons) and XLSX, the preview's row-by-row errors,
an idempotent import keyed by connection number, conflicts reported, a bad row losing nothing else, opening
arrears posted once; the pages, the API and the CLI, and another operator's 404."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from mita.accounts.roles import Role
from mita.customers.imports import (
    IMPORT_COLUMNS,
    ImportFileError,
    import_batch_run,
    import_errors_csv,
    import_preview,
)
from mita.customers.models import Connection, Customer, ImportBatch, ImportRow
from mita.customers.search import matches
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

HEADER = "connection_number,name,phone,utility,property_type,village,opening_arrears,arrears_as_of"
GOOD = [
    "AAL-0001,Jeanne Uwase,0788123456,water,residential,Nyamata,2500,2025-12-31",
    "AAL-0002,Jeanne Uwase,0788123456,water,commercial,Nyamata,,",
    "AAL-0003,Eric Habimana,+250722000111,water,Public tap,Gako,,",
]


def csv_bytes(*lines: str, header: str = HEADER, bom: bool = False, delimiter: str = ",") -> bytes:
    text = "\n".join([header, *lines]) + "\n"
    if delimiter != ",":
        text = text.replace(",", delimiter)
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def preview(operator, content: bytes, name: str = "customers.csv") -> ImportBatch:
    return import_preview(operator=operator, acting_user=None, file_name=name, content=content)


def problems(batch: ImportBatch) -> dict[int, list[tuple[str, str]]]:
    return {
        row.number: [(error["column"], error["message"]) for error in row.errors]
        for row in ImportRow.objects.filter(batch=batch).exclude(errors=[])
    }


# Reading files ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_csv_with_or_without_bom_and_with_commas_or_semicolons_previews_the_same(operator_a, bom, delimiter):
    batch = preview(operator_a, csv_bytes(*GOOD, bom=bom, delimiter=delimiter))
    assert (batch.rows_total, batch.rows_new, batch.rows_error) == (3, 3, 0), problems(batch)
    assert batch.columns[0] == "connection_number"  # the BOM is not part of the first header
    # and the preview writes no customer
    assert not Customer.objects.exists() and not Connection.objects.exists()


def test_an_xlsx_file_is_imported_with_its_dates_and_numbers(operator_a):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Connection number", "Name", "Phone", "Utility", "Property type", "Opening arrears", "Arrears as of"])
    import datetime

    sheet.append(["AAL-0100", "Aline Mutoni", 788555444, "Water", "residential", 1200, datetime.datetime(2025, 11, 30)])
    out = io.BytesIO()
    workbook.save(out)
    batch = preview(operator_a, out.getvalue(), name="old-register.xlsx")
    assert (batch.file_format, batch.rows_new, batch.rows_error) == ("xlsx", 1, 0), problems(batch)
    batch = import_batch_run(batch_id=batch.pk)
    connection = Connection.objects.get(number="AAL-0100")
    assert connection.customer.phone == "+250788555444"
    assert holder_balance(operator=operator_a, holder="AAL-0100", purpose="receivable") == Decimal("1200")
    charge = Charge.objects.get(operator=operator_a, holder="AAL-0100")
    assert charge.due_date.isoformat() == "2025-11-30"


def test_unknown_or_missing_columns_refuse_the_file_and_save_nothing(operator_a):
    with pytest.raises(ImportFileError, match="Unknown columns: telephone"):
        preview(operator_a, csv_bytes("x", header="connection_number,name,telephone,utility,property_type"))
    with pytest.raises(ImportFileError, match="Required columns are missing: phone"):
        preview(operator_a, csv_bytes("x", header="connection_number,name,utility,property_type"))
    with pytest.raises(ImportFileError, match="not in UTF-8"):
        preview(operator_a, (HEADER + "\nAAL-1,Jérôme,0788123456,water,residential,,,\n").encode("latin-1"))
    assert not ImportBatch.objects.exists()


# The preview's errors, row by row ------------------------------------------------------------------------------------


def test_the_preview_lists_each_bad_cell_with_its_row_column_and_what_to_fix(operator_a):
    batch = preview(
        operator_a,
        csv_bytes(
            GOOD[0],
            "AAL-0010,Bad Phone,12,water,residential,,,",  # row 3
            "AAL-0011,Bad Utility,0788000001,gas,residential,,,",  # row 4
            "AAL 0012,Bad Number,0788000002,water,residential,,,",  # row 5
            "AAL-0013,Cents,0788000003,water,residential,,10.50,2025-01-01",  # row 6: RWF has no cents
            "AAL-0014,No Date,0788000004,water,residential,,100,",  # row 7
            "aal-0001,Twice,0788000005,water,residential,,,",  # row 8: the same connection as row 2
            "AAL-0015,Bad Date,0788000006,water,residential,,100,31/12/2025",  # row 9
        ),
    )
    found = problems(batch)
    assert (batch.rows_new, batch.rows_error) == (1, 7)
    assert [column for column, _message in found[3]] == ["phone"]
    assert found[4] == [("utility", "Write one of: water, electricity.")]
    assert found[5][0][0] == "connection_number" and "No spaces" in found[5][0][1]
    assert found[6][0][0] == "opening_arrears" and "write 11" in found[6][0][1]
    assert found[7] == [("arrears_as_of", "The date the arrears were owed at.")]
    assert found[8][0] == ("connection_number", "Connection aal-0001 is also on row 2: a connection is one row.")
    assert found[9][0][0] == "arrears_as_of" and "2025-12-31" in found[9][0][1]


def test_rows_of_one_customer_must_agree_on_their_details(operator_a):
    batch = preview(
        operator_a,
        csv_bytes(
            "AAL-0001,Jeanne Uwase,0788123456,water,residential,Nyamata,,",
            "AAL-0002,Jeanne Uwase,0788123456,water,residential,Gako,,",
        ),
    )
    assert problems(batch)[3][0][0] == "village" and "Row 2 has the same customer" in problems(batch)[3][0][1]


def test_the_errors_download_as_a_csv_a_spreadsheet_opens(operator_a):
    batch = preview(operator_a, csv_bytes(GOOD[0], "AAL-0010,Bad Phone,12,water,residential,,,"))
    text = import_errors_csv(batch=batch)
    assert text.startswith("\ufeffrow,connection number,outcome,column,what to fix")
    assert "3,AAL-0010,Error,phone," in text and "AAL-0001" not in text


# The import ----------------------------------------------------------------------------------------------------------


def test_the_import_makes_customers_and_connections_and_a_second_run_makes_nothing_new(operator_a):
    batch = import_batch_run(batch_id=preview(operator_a, csv_bytes(*GOOD)).pk)
    assert (batch.status, batch.rows_imported, batch.customers_created) == ("done", 3, 2)
    jeanne = Customer.objects.get(name="Jeanne Uwase")
    assert sorted(jeanne.connections.values_list("number", flat=True)) == ["AAL-0001", "AAL-0002"]
    assert Connection.objects.get(number="AAL-0003").property_type == "public_tap"
    # when the same file is imported again
    again = preview(operator_a, csv_bytes(*GOOD))
    assert (again.rows_new, again.rows_unchanged) == (0, 3)
    again = import_batch_run(batch_id=again.pk)
    # then nothing new is made, and the arrears were posted once
    assert (Customer.objects.count(), Connection.objects.count(), again.rows_imported) == (2, 3, 0)
    assert Charge.objects.filter(operator=operator_a, holder="AAL-0001").count() == 1
    assert holder_balance(operator=operator_a, holder="AAL-0001", purpose="receivable") == Decimal("2500")


def test_imported_customers_and_connections_are_found_by_the_search(operator_a):
    import_batch_run(batch_id=preview(operator_a, csv_bytes(*GOOD)).pk)
    jeanne = Customer.objects.get(name="Jeanne Uwase")
    eric = Customer.objects.get(name="Eric Habimana")
    assert {match.customer_id for match in matches(operator=operator_a, query="Uwase")} == {jeanne.pk}
    assert {match.customer_id for match in matches(operator=operator_a, query="0722000111")} == {eric.pk}
    found = matches(operator=operator_a, query="AAL-0002")
    assert [(match.customer_id, match.connection_id) for match in found] == [
        (jeanne.pk, Connection.objects.get(number="AAL-0002").pk)
    ]


def test_a_bank_account_without_its_bank_is_a_row_error(operator_a):
    header = HEADER + ",bank_name,bank_account"
    batch = preview(operator_a, csv_bytes(GOOD[2] + ",,12345678", header=header))
    assert [column for column, _message in problems(batch)[2]] == ["bank_name"]


def test_a_batch_already_imported_is_not_run_twice(operator_a):
    batch = import_batch_run(batch_id=preview(operator_a, csv_bytes(*GOOD)).pk)
    from mita.customers.services import CustomerError

    with pytest.raises(CustomerError, match="already imported"):
        import_batch_run(batch_id=batch.pk)


def test_a_bad_row_is_skipped_and_listed_and_the_good_rows_are_imported(operator_a):
    batch = preview(operator_a, csv_bytes(GOOD[0], "AAL-0010,Bad Phone,12,water,residential,,,", GOOD[2]))
    batch = import_batch_run(batch_id=batch.pk)
    assert (batch.rows_imported, batch.rows_error) == (2, 1)
    assert sorted(Connection.objects.values_list("number", flat=True)) == ["AAL-0001", "AAL-0003"]
    assert ImportRow.objects.get(batch=batch, number=3).outcome == "error"


def test_a_row_that_fails_when_written_loses_nothing_else(operator_a):
    # given a previewed file whose second connection is taken between the preview and the import
    batch = preview(operator_a, csv_bytes(*GOOD))
    connection_of(operator_a, customer_of(operator_a, name="Someone Else", phone="+250722999999"), number="AAL-0002")
    batch = import_batch_run(batch_id=batch.pk)
    # then the taken row is reported (judged again at import time), the others are imported
    assert (batch.rows_imported, batch.rows_conflict) == (2, 1)
    assert Connection.objects.get(number="AAL-0002").customer.name == "Someone Else"
    assert Connection.objects.get(number="AAL-0001").customer.name == "Jeanne Uwase"


def test_a_connection_saved_with_other_contacts_is_a_conflict_not_an_overwrite(operator_a):
    import_batch_run(batch_id=preview(operator_a, csv_bytes(*GOOD)).pk)
    changed = GOOD[2].replace("+250722000111", "+250722000222")  # Eric's phone differs from what is saved
    batch = preview(operator_a, csv_bytes(GOOD[0], changed))
    assert (batch.rows_unchanged, batch.rows_conflict) == (1, 1)
    (column, message), *_ = problems(batch)[3]
    assert column == "phone" and "does not overwrite" in message
    # the name+phone differ, so Eric's new phone makes another customer group; his connection still is his
    import_batch_run(batch_id=batch.pk)
    assert Connection.objects.get(number="AAL-0003").customer.phone == "+250722000111"


def test_a_new_connection_for_a_known_customer_number_joins_that_customer(operator_a):
    jeanne = customer_of(operator_a)  # AAL-C-000001, +250788123456
    header = "customer_number,connection_number,name,phone,utility,property_type"
    batch = preview(
        operator_a,
        csv_bytes(
            "aal-c-000001,AAL-0050,Jeanne Uwase,+250788123456,water,residential",
            "AAL-C-000099,AAL-0051,Nobody,+250788000000,water,residential",
            header=header,
        ),
    )
    assert problems(batch)[3][0][0] == "customer_number" and "No customer AAL-C-000099" in problems(batch)[3][0][1]
    import_batch_run(batch_id=batch.pk)
    assert Connection.objects.get(number="AAL-0050").customer == jeanne


def test_a_partly_imported_customer_gets_the_rest_of_their_connections_later(operator_a):
    import_batch_run(batch_id=preview(operator_a, csv_bytes(GOOD[0])).pk)
    import_batch_run(batch_id=preview(operator_a, csv_bytes(*GOOD)).pk)
    jeanne = Customer.objects.get(name="Jeanne Uwase")
    assert Customer.objects.filter(name="Jeanne Uwase").count() == 1
    assert jeanne.connections.count() == 2


def test_every_column_of_the_template_is_read(operator_a, district_a):
    header = ",".join(column.key for column in IMPORT_COLUMNS)
    row = ",".join(
        {
            "kind": "organisation",
            "name": "Groupe Scolaire Nyamata",
            "relative_name": "",
            "phone": "0788123456",
            "phone_2": "0722000333",
            "id_type": "company",
            "id_number": "RDB-1234",
            "email": "gs@example.org",
            "language": "FR",
            "district": "bugesera",
            "village": "Nyamata",
            "street": "KK 12 St",
            "house": "7",
            "bank_name": "Bank of Kigali",
            "bank_account": "000-4500-1234",
            "connection_number": "AAL-0900",
            "utility": "electricity",
            "property_type": "institutional",
            "connection_type": "3-phase",
            "metered": "no",
            "latitude": "-2.153100",
            "longitude": "30.0903",
            "opening_arrears": "",
            "arrears_as_of": "",
        }.get(column.key, "")
        for column in IMPORT_COLUMNS
    )
    batch = import_batch_run(batch_id=preview(operator_a, csv_bytes(row, header=header)).pk)
    assert batch.rows_imported == 1, problems(batch)
    connection = Connection.objects.select_related("customer").get(number="AAL-0900")
    customer = connection.customer
    assert (customer.kind, customer.language, customer.district, customer.phone_2) == (
        "organisation",
        "fr",
        district_a,
        "+250722000333",
    )
    assert (connection.utility, connection.metered, connection.latitude) == ("electricity", False, Decimal("-2.1531"))
    assert (customer.bank_name, customer.bank_account) == ("Bank of Kigali", "000-4500-1234")
    # and the same file again is unchanged, the GPS and the district compared as saved
    assert preview(operator_a, csv_bytes(row, header=header)).rows_unchanged == 1


# Pages, API, CLI -----------------------------------------------------------------------------------------------------


def test_a_clerk_uploads_previews_and_imports_on_the_pages(operator_a, client_for):
    client = client_for(clerk_of(operator_a))
    assert client.get("/customers/imports/").status_code == 200
    assert client.get("/customers/imports/new/").status_code == 200
    upload = io.BytesIO(csv_bytes(GOOD[0], "AAL-0010,Bad Phone,12,water,residential,,,"))
    upload.name = "register.csv"
    response = client.post("/customers/imports/new/", {"file": upload})
    batch = ImportBatch.objects.get(operator=operator_a)
    assert response.status_code == 302 and response.url == f"/customers/imports/{batch.pk}/"
    page = client.get(response.url).content.decode()
    assert 'data-testid="count-new">1<' in page and 'data-testid="count-error">1<' in page
    assert "import-error-3" in page
    errors = client.get(f"/customers/imports/{batch.pk}/errors.csv")
    assert errors["Content-Type"].startswith("text/csv") and "AAL-0010" in errors.content.decode()
    response = client.post(f"/customers/imports/{batch.pk}/run/")
    assert response.status_code == 302
    assert Connection.objects.filter(operator=operator_a).count() == 1
    page = client.get(f"/customers/imports/{batch.pk}/").content.decode()
    assert 'data-status="done"' in page and 'data-testid="count-imported">1<' in page


def test_a_bad_file_is_shown_on_the_upload_form(operator_a, client_for):
    upload = io.BytesIO(b"just,some,columns\n1,2,3\n")
    upload.name = "wrong.csv"
    response = client_for(clerk_of(operator_a)).post("/customers/imports/new/", {"file": upload})
    assert response.status_code == 400 and "Unknown columns" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_templates_download_in_csv_and_xlsx(operator_a, client_for):
    client = client_for(clerk_of(operator_a))
    text = client.get("/customers/imports/template.csv").content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(column.key for column in IMPORT_COLUMNS)
    # the template's own example row previews without errors
    assert preview(operator_a, text.encode()).rows_error == 0
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/customers/imports/template.xlsx").content))
    assert [cell.value for cell in workbook["customers"][1]][:3] == ["customer_number", "kind", "name"]


def test_a_cashier_may_not_import(operator_a, client_for):
    cashier = member(Role.CASHIER, operator_a)
    assert client_for(cashier).get("/customers/imports/").status_code == 403
    assert client_for(cashier).get("/api/v1/customer-imports/1").status_code == 403


def test_the_api_previews_runs_and_reads_an_import(operator_a, client_for):
    client = client_for(clerk_of(operator_a))
    upload = io.BytesIO(csv_bytes(*GOOD, "AAL-0010,Bad Phone,12,water,residential,,,"))
    upload.name = "register.csv"
    response = client.post("/api/v1/customer-imports", {"file": upload})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["rows_new"], body["rows_error"]) == ("previewed", 3, 1)
    assert body["rows_to_fix"][0]["row"] == 5 and body["rows_to_fix"][0]["errors"][0]["column"] == "phone"
    response = client.post(f"/api/v1/customer-imports/{body['id']}/run")
    assert response.status_code == 202 and response.json()["rows_imported"] == 3
    assert client.get(f"/api/v1/customer-imports/{body['id']}").json()["status"] == "done"
    response = client.post(f"/api/v1/customer-imports/{body['id']}/run")
    assert response.status_code == 400 and response.json()["error"]["code"] == "import_done"


def test_the_api_refuses_a_bad_file_with_what_to_fix(operator_a, client_for):
    upload = io.BytesIO(b"")
    upload.name = "empty.csv"
    response = client_for(clerk_of(operator_a)).post("/api/v1/customer-imports", {"file": upload})
    assert response.status_code == 400 and response.json()["error"]["code"] == "import_empty"


def test_another_operator_s_import_is_404_on_pages_and_api(operator_a, operator_b, client_for):
    batch = preview(operator_a, csv_bytes(*GOOD))
    outsider = client_for(clerk_of(operator_b, name="Otto Outsider"))
    for url in (f"/customers/imports/{batch.pk}/", f"/customers/imports/{batch.pk}/errors.csv"):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/customers/imports/{batch.pk}/run/").status_code == 404
    assert outsider.get(f"/api/v1/customer-imports/{batch.pk}").status_code == 404
    assert outsider.post(f"/api/v1/customer-imports/{batch.pk}/run").status_code == 404
    assert "customers.csv" not in outsider.get("/customers/imports/").content.decode()
    assert not Connection.objects.exists()


def test_the_cli_previews_and_with_commit_imports(operator_a, tmp_path):
    path = tmp_path / "register.csv"
    path.write_bytes(csv_bytes(*GOOD, "AAL-0010,Bad Phone,12,water,residential,,,"))
    out, err = io.StringIO(), io.StringIO()
    call_command("customers_import", str(path), operator="aal", stdout=out, stderr=err)
    assert "4 rows, 3 new, 0 unchanged, 0 conflicts, 1 errors" in out.getvalue()
    assert "row 5 error phone:" in err.getvalue()
    assert not Connection.objects.exists()
    out = io.StringIO()
    call_command("customers_import", str(path), operator="AAL", commit=True, stdout=out, stderr=io.StringIO())
    assert "Imported: 3 rows, 2 customers registered" in out.getvalue()
    assert Connection.objects.count() == 3
    with pytest.raises(CommandError, match="No operator has the prefix"):
        call_command("customers_import", str(path), operator="NOPE", stdout=io.StringIO())


def test_an_imported_customer_and_connection_carry_what_the_services_write(operator_a):
    from mita.core.audit import audit_for

    batch = import_batch_run(batch_id=preview(operator_a, csv_bytes(GOOD[0])).pk)
    connection = Connection.objects.get(number="AAL-0001")
    customer = connection.customer
    assert (customer.number, customer.status) == ("AAL-C-000001", "active")
    assert customer.status_changes.get().reason == "Customer created"
    assert connection.holdings.get().ends_on is None
    assert [entry.action for entry in audit_for(customer)] == ["customer.created"]
    assert [entry.action for entry in audit_for(connection)] == ["connection.created"]
    assert ImportRow.objects.get(batch=batch).connection == connection
    # the next customer registered by hand takes the next number: the import used the gapless sequence
    assert customer_of(operator_a, name="Aline Mutoni", phone="+250788000999").number == "AAL-C-000002"


def test_a_number_taken_after_the_rows_were_judged_fails_alone(operator_a, monkeypatch):
    # given a connection saved that the import's judgement does not see (taken between judging and writing)
    from mita.customers import imports

    connection_of(operator_a, customer_of(operator_a, name="Someone Else", phone="+250722999999"), number="AAL-0002")
    monkeypatch.setattr(imports, "_existing_connections", lambda **kwargs: {})
    batch = import_batch_run(batch_id=preview(operator_a, csv_bytes(*GOOD)).pk)
    # then that row fails on the database's unique number and the others are imported, Jeanne once
    assert (batch.rows_imported, batch.rows_error) == (2, 1)
    row = ImportRow.objects.get(batch=batch, number=3)
    assert row.errors[0]["column"] == "connection_number" and "AAL-0002 is already in use" in row.errors[0]["message"]
    assert Customer.objects.filter(name="Jeanne Uwase").count() == 1
    assert Connection.objects.get(number="AAL-0002").customer.name == "Someone Else"


def test_a_queued_import_s_page_polls_its_progress_until_done(operator_a, client_for):
    from mita.core.jobs import job_advance, job_create

    batch = preview(operator_a, csv_bytes(*GOOD))
    batch.job = job_create(kind="customers.import", title="Import", total=3, operator=operator_a)
    batch.status = ImportBatch.Status.RUNNING
    batch.save()
    job_advance(job_id=batch.job.pk, by=2)
    client = client_for(clerk_of(operator_a))
    # while it runs, the status block asks for itself again every 2 s and shows how far it is
    partial = client.get(f"/customers/imports/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in partial and "2 / 3" in partial and "<html" not in partial
    # and once done it stops asking
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.DONE)
    partial = client.get(f"/customers/imports/{batch.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in partial and 'data-status="done"' in partial


def test_the_demo_s_register_is_the_same_each_time_and_imports_without_a_row_to_fix(operator_a):
    import datetime
    import random
    from collections import Counter

    from mita.customers.demo import bulk_rows, rows_csv

    def register():
        return bulk_rows(
            rng=random.Random(7),
            operator=operator_a,
            key="amazi",
            customers=300,
            arrears_as_of=datetime.date(2026, 1, 31),
        )

    rows = register()
    assert rows == register()  # seeded: the same demo every time
    phones = Counter(row["phone"] for row in rows)
    names_by_phone = {phone: {row["name"] for row in rows if row["phone"] == phone} for phone in phones}
    assert any(len(names) > 1 for names in names_by_phone.values()), "relatives sharing a phone"
    assert any(row["kind"] == "organisation" for row in rows)
    batch = import_batch_run(batch_id=preview(operator_a, rows_csv(rows)).pk)
    assert (batch.rows_error, batch.rows_conflict, batch.customers_created) == (0, 0, 300)
    assert Connection.objects.filter(operator=operator_a).count() == len(rows) > 300  # some own several
    with_arrears = [row for row in rows if row["opening_arrears"]]
    assert Charge.objects.filter(operator=operator_a, is_opening_balance=True).count() == len(with_arrears) > 0
