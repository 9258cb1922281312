"""The materials catalogue: adding and changing items, codes unique and fixed, prices in the currency's units, the
pages and the API, and another operator's user getting 404."""

from decimal import Decimal

import pytest
from django.urls import reverse

from mita.accounts.roles import Role
from mita.core.errors import Conflict
from mita.stock.models import Material
from mita.stock.services import MaterialError, material_create, material_update
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


def pipe(operator, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "code": "PIPE-20",
        "name": "HDPE pipe 20 mm",
        "unit": "m",
        "unit_price": Decimal("800"),
        "properties": {"diameter_mm": 20},
    }
    values.update(overrides)
    return material_create(operator=operator, acting_user=None, **values)


def test_an_item_code_is_unique_at_the_operator_whatever_its_case(operator_a, operator_b):
    pipe(operator_a)
    with pytest.raises(Conflict):
        pipe(operator_a, code="pipe-20")
    assert pipe(operator_b).code == "PIPE-20"  # another operator's catalogue is its own


def test_bad_items_are_refused_field_by_field(operator_a):
    with pytest.raises(MaterialError) as error:
        pipe(operator_a, code="PIPE 20", name=" ", unit_price=Decimal("-1"), properties=["x"])
    assert set(error.value.fields) == {"code", "name", "unit_price", "properties"}
    with pytest.raises(MaterialError) as error:
        pipe(operator_a, unit_price=Decimal("800.5"))  # RWF has no cents
    assert error.value.fields["unit_price"] == ["RWF amounts have no smaller units than this: write 801."]


def test_an_item_s_code_never_changes_but_its_price_does(operator_a):
    material = pipe(operator_a)
    with pytest.raises(MaterialError):
        material_update(material=material, acting_user=None, code="PIPE-25")
    material_update(material=material, acting_user=None, unit_price=Decimal("900"), active=False)
    material.refresh_from_db()
    assert (material.unit_price, material.active) == (Decimal("900"), False)


def test_the_storekeeper_adds_an_item_on_the_page_and_a_technician_reads_it(operator_a, client_for):
    storekeeper = member(Role.STOREKEEPER, operator_a)
    response = client_for(storekeeper).post(
        reverse("stock:material_create"),
        {
            "code": "KIT-M",
            "name": "Meter kit",
            "unit": "piece",
            "unit_price": "15000",
            "properties": '{"brand": "Itron"}',
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Material.objects.get().properties == {"brand": "Itron"}
    technician = client_for(member(Role.TECHNICIAN, operator_a))
    assert "Meter kit" in technician.get(reverse("stock:material_list")).content.decode()
    assert technician.get(reverse("stock:material_create")).status_code == 403
    bad = client_for(storekeeper).post(
        reverse("stock:material_create"), {"code": "X", "name": "X", "unit": "m", "unit_price": "1", "properties": "{"}
    )
    assert bad.status_code == 400 and "JSON" in bad.content.decode()


def test_the_catalogue_api(operator_a, client_for, admin_a):
    client = client_for(admin_a)
    created = client.post(
        "/api/v1/materials",
        {"code": "PIPE-20", "name": "Pipe", "unit": "m", "unit_price": "800", "properties": {"diameter_mm": 20}},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["unit_price"] == "800.00"
    material_id = created.json()["id"]
    changed = client.patch(f"/api/v1/materials/{material_id}", {"unit_price": "850"}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["unit_price"] == "850.00"
    taken = client.post(
        "/api/v1/materials",
        {"code": "pipe-20", "name": "P", "unit": "m", "unit_price": "1"},
        content_type="application/json",
    )
    assert taken.status_code == 409
    assert client.get("/api/v1/materials?q=PIP").json()["count"] == 1


def test_another_operator_s_admin_gets_404(operator_a, client_for, admin_b):
    material = pipe(operator_a)
    outsider = client_for(admin_b)
    assert outsider.get(reverse("stock:material_edit", args=[material.pk])).status_code == 404
    assert outsider.get(f"/api/v1/materials/{material.pk}").status_code == 404
    assert (
        outsider.patch(f"/api/v1/materials/{material.pk}", {"name": "x"}, content_type="application/json").status_code
        == 404
    )
    assert "PIPE-20" not in outsider.get(reverse("stock:material_list")).content.decode()
