import pytest
from django.urls import reverse

from mita.accounts.models import LoginFailure

pytestmark = pytest.mark.django_db


def test_a_user_signs_in_with_phone_in_local_form_and_lands_home(client, staff_a, password):
    local = "0" + staff_a.phone.removeprefix("+250")
    response = client.post(reverse("accounts:login"), {"phone": local, "password": password})
    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert client.get(reverse("core:home")).status_code == 200


def test_a_wrong_password_says_so_without_saying_which_part_is_wrong(client, staff_a):
    response = client.post(reverse("accounts:login"), {"phone": staff_a.phone, "password": "nope-nope"})
    assert response.status_code == 401
    assert "The phone number or the password is wrong." in response.content.decode()


def test_an_unreadable_phone_number_gets_a_clear_error_next_to_the_field(client):
    response = client.post(reverse("accounts:login"), {"phone": "12ab", "password": "x"})
    assert response.status_code == 200
    assert "is not a phone number" in response.content.decode()


def test_eleven_wrong_passwords_in_a_row_are_throttled_even_the_right_one_after(client, staff_a, password):
    # given ten wrong passwords
    for _ in range(10):
        response = client.post(reverse("accounts:login"), {"phone": staff_a.phone, "password": "wrong-password"})
    assert response.status_code == 429
    # when the eleventh try, even with the right password
    response = client.post(reverse("accounts:login"), {"phone": staff_a.phone, "password": password})
    # then it is refused with a clear message
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_throttle_lifts_after_the_window(client, staff_a, password):
    for _ in range(10):
        client.post(reverse("accounts:login"), {"phone": staff_a.phone, "password": "wrong-password"})
    LoginFailure.objects.update(at=LoginFailure.objects.first().at.replace(year=2000))
    response = client.post(reverse("accounts:login"), {"phone": staff_a.phone, "password": password})
    assert response.status_code == 302


def test_the_throttle_counts_per_account(client, staff_a, admin_a, password):
    for _ in range(10):
        client.post(reverse("accounts:login"), {"phone": staff_a.phone, "password": "wrong-password"})
    response = client.post(reverse("accounts:login"), {"phone": admin_a.phone, "password": password})
    assert response.status_code == 302


def test_sign_out_is_a_post(client_for, staff_a):
    client = client_for(staff_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("core:home")).status_code == 302


def test_a_page_needs_sign_in(client):
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
