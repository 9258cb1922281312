import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mita.accounts.models import Membership, PasswordResetCode, User
from mita.accounts.roles import Role
from mita.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _last_sms(to: str) -> OutboxMessage:
    return OutboxMessage.objects.filter(to=to, channel="sms").order_by("-pk").first()


def test_an_admin_invites_a_cashier_who_sets_a_password_from_the_sms_link(client_for, admin_a, operator_a, client):
    # when the operator admin invites a new cashier
    response = client_for(admin_a).post(
        reverse("accounts:user_invite"),
        {
            "phone": "+250788777001",
            "name": "Nadia Cashier",
            "email": "",
            "role": Role.CASHIER,
            "language": "fr",
        },
    )
    assert response.status_code == 302
    cashier = User.objects.get(phone="+250788777001")
    assert Membership.objects.filter(user=cashier, role=Role.CASHIER, operator=operator_a).exists()
    assert not cashier.has_usable_password()
    # then an SMS with a link is in the outbox, in French
    sms = _last_sms("+250788777001")
    assert sms.language == "fr"
    link = re.search(r"https?://\S+/accounts/invitation/(\S+)/", sms.body)
    assert link, sms.body
    # when the cashier follows it and sets a password
    url = reverse("accounts:invitation_accept", args=[link.group(1)])
    response = client.post(url, {"password": "kigali-water-42", "password_again": "kigali-water-42", "language": "rw"})
    # then they are signed in, and the link no longer works
    assert response.status_code == 302
    cashier.refresh_from_db()
    assert cashier.check_password("kigali-water-42")
    assert cashier.language == "rw"
    assert client.get(url).status_code == 404


def test_inviting_someone_who_works_for_another_operator_adds_the_role_without_a_new_account(
    client_for, admin_a, operator_a, admin_b
):
    response = client_for(admin_a).post(
        reverse("accounts:user_invite"),
        {
            "phone": admin_b.phone,
            "name": "ignored",
            "email": "",
            "role": Role.TREASURER,
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(phone=admin_b.phone).count() == 1
    assert Membership.objects.filter(user=admin_b, operator=operator_a, role=Role.TREASURER).exists()
    assert not OutboxMessage.objects.filter(to=admin_b.phone, template="accounts.invitation").exists()


def test_an_invitation_with_a_weak_password_keeps_the_link_usable_and_says_why(client, staff_a):
    from mita.accounts.services import invitation_send

    staff_a.set_unusable_password()
    staff_a.save()
    _invitation, token = invitation_send(user=staff_a, role=Role.CASHIER, organisation="Op", acting_user=None)
    url = reverse("accounts:invitation_accept", args=[token])
    response = client.post(url, {"password": "12345678", "password_again": "12345678", "language": "en"})
    assert response.status_code == 200
    assert "too common" in response.content.decode() or "entirely numeric" in response.content.decode()
    assert client.get(url).status_code == 200


def test_an_unknown_invitation_token_is_a_404(client):
    assert client.get(reverse("accounts:invitation_accept", args=["not-a-token"])).status_code == 404


def _request_code(client, phone):
    client.post(reverse("accounts:password_reset_request"), {"phone": phone})
    return re.search(r"\b(\d{6})\b", _last_sms(phone).body).group(1)


def test_a_forgotten_password_is_reset_with_the_sms_code(client, staff_a):
    code = _request_code(client, staff_a.phone)
    response = client.post(
        reverse("accounts:password_reset_confirm"),
        {
            "phone": staff_a.phone,
            "code": code,
            "password": "new-secret-word",
            "password_again": "new-secret-word",
        },
    )
    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.check_password("new-secret-word")


def test_a_reset_request_for_an_unknown_phone_looks_the_same_and_sends_nothing(client):
    response = client.post(reverse("accounts:password_reset_request"), {"phone": "+250788999999"})
    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()


def test_five_wrong_codes_use_up_the_code(client, staff_a):
    code = _request_code(client, staff_a.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _attempt in range(5):
        response = client.post(
            reverse("accounts:password_reset_confirm"),
            {
                "phone": staff_a.phone,
                "code": wrong,
                "password": "new-secret-word",
                "password_again": "new-secret-word",
            },
        )
        assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()
    # then even the right code no longer works
    response = client.post(
        reverse("accounts:password_reset_confirm"),
        {
            "phone": staff_a.phone,
            "code": code,
            "password": "new-secret-word",
            "password_again": "new-secret-word",
        },
    )
    assert "wrong or has expired" in response.content.decode()


def test_a_code_expires_after_ten_minutes(client, staff_a):
    code = _request_code(client, staff_a.phone)
    PasswordResetCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.post(
        reverse("accounts:password_reset_confirm"),
        {
            "phone": staff_a.phone,
            "code": code,
            "password": "new-secret-word",
            "password_again": "new-secret-word",
        },
    )
    assert "wrong or has expired" in response.content.decode()
    staff_a.refresh_from_db()
    assert not staff_a.check_password("new-secret-word")


def test_codes_are_rate_limited_per_account(client, staff_a):
    for _ in range(3):
        _request_code(client, staff_a.phone)
    response = client.post(reverse("accounts:password_reset_request"), {"phone": staff_a.phone})
    assert response.status_code == 429
    assert "several times in the last hour" in response.content.decode()
    assert PasswordResetCode.objects.filter(user=staff_a).count() == 3


@pytest.mark.parametrize("persona", ["staff_a", "regulator_viewer"])
def test_only_admins_manage_users(request, client_for, persona):
    user = request.getfixturevalue(persona)
    assert client_for(user).get(reverse("accounts:user_list")).status_code == 403


def test_an_admin_cannot_remove_their_own_admin_role(client_for, admin_a):
    membership = Membership.objects.get(user=admin_a)
    client_for(admin_a).post(reverse("accounts:membership_revoke", args=[membership.pk]))
    membership.refresh_from_db()
    assert membership.is_active


def test_removing_a_role_takes_the_workspace_away(client_for, admin_a, staff_a):
    membership = Membership.objects.get(user=staff_a)
    client_for(admin_a).post(reverse("accounts:membership_revoke", args=[membership.pk]))
    membership.refresh_from_db()
    assert not membership.is_active
    assert "Sam Staff" not in client_for(admin_a).get(reverse("accounts:user_list")).content.decode()


def test_the_users_card_counts_invitations_waiting_to_be_accepted(client_for, admin_a):
    client = client_for(admin_a)
    client.post(
        reverse("accounts:user_invite"),
        {
            "phone": "+250788777003",
            "name": "Waiting Person",
            "email": "",
            "role": Role.CASHIER,
            "language": "en",
        },
    )
    page = client.get(reverse("core:home")).content.decode()
    assert re.search(r'data-testid="card-accounts.users".*?<span class="badge"[^>]*>1</span>', page, re.S)
