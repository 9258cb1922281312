"""The report of customers billed per cycle and per cluster: page, CSV and API; issued bills only; operators see
theirs, the regulator sees every operator's."""

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest

from mita.billing.models import Bill
from mita.billing.tests.world_documents import issued_world

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def world(operator_a):
    return issued_world(operator_a)


def _expected(operator):
    """Customers, bills and totals of the issued bills per cluster, counted in Python from the bills themselves."""
    groups: dict[str, dict] = defaultdict(lambda: {"customers": set(), "bills": 0, "total": Decimal(0)})
    for bill in Bill.objects.filter(operator=operator, status="issued").select_related("connection__cluster"):
        group = groups[bill.connection.cluster.code if bill.connection.cluster else ""]
        group["customers"].add(bill.connection.customer_id)
        group["bills"] += 1
        group["total"] += bill.total
    return groups


def test_the_csv_counts_customers_and_totals_per_cluster_and_per_cycle(client_for, staff_a, operator_a, world):
    expected = _expected(operator_a)
    assert set(expected) == {"CL-AAL", ""} and len(expected["CL-AAL"]["customers"]) == 3
    response = client_for(staff_a).get("/billing/reports/customers-billed.csv?year=2026")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="customers-billed-2026.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    clusters = {row["cluster_code"]: row for row in rows if row["cluster_code"] != "*"}
    assert set(clusters) == set(expected)
    for code, group in expected.items():
        row = clusters[code]
        assert row["cycle"] == "2026-10" and row["operator"] == operator_a.name
        assert int(row["customers"]) == len(group["customers"]) and int(row["bills"]) == group["bills"]
        assert Decimal(row["total"]) == group["total"]
    (everything,) = [row for row in rows if row["cluster_code"] == "*"]
    assert int(everything["bills"]) == sum(group["bills"] for group in expected.values())
    assert Decimal(everything["total"]) == world["run"].total


def test_drafts_are_not_counted_and_the_page_filters_by_cycle(client_for, staff_a, operator_a):
    issued_world(operator_a, approve=False)
    client = client_for(staff_a)
    page = client.get("/billing/reports/customers-billed/?cycle=2026-10")
    assert page.status_code == 200 and b"No bills issued." in page.content
    bad = client.get("/billing/reports/customers-billed/?year=26")
    assert bad.status_code == 400 and b"four digits" in bad.content
    assert client.get("/billing/reports/customers-billed.csv?year=x").status_code == 400


def test_the_page_and_the_api_show_the_cycle(client_for, staff_a, world):
    client = client_for(staff_a)
    page = client.get("/billing/reports/customers-billed/?year=2026")
    assert (
        page.status_code == 200 and b'data-testid="cycle-2026-10"' in page.content and b"Hills of AAL" in page.content
    )
    body = client.get("/api/v1/billing-reports/customers-billed?cycle=2026-10").json()
    (cycle,) = body["by_cycle"]
    assert cycle["bills"] == Bill.objects.filter(status="issued").count() and cycle["cluster_code"] == ""
    assert Decimal(cycle["total"]) == world["run"].total
    bad = client.get("/api/v1/billing-reports/customers-billed?year=abc")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "year_invalid"


def test_another_operator_sees_none_of_it_and_the_regulator_sees_it(client_for, admin_b, regulator_viewer, world):
    outsider = client_for(admin_b)
    assert b"Hills of AAL" not in outsider.get("/billing/reports/customers-billed/").content
    assert outsider.get("/api/v1/billing-reports/customers-billed").json()["by_cluster"] == []
    assert b"AAL" not in outsider.get("/billing/reports/customers-billed.csv").content
    regulator = client_for(regulator_viewer)
    assert b"Hills of AAL" in regulator.get("/billing/reports/customers-billed/").content
