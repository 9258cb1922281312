"""Writes about users: creating and inviting them, passwords, login throttling, API tokens."""

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mita.accounts.models import (
    ApiToken,
    Invitation,
    LoginFailure,
    Membership,
    PasswordResetCode,
    User,
    token_digest,
)
from mita.accounts.phones import normalize_phone
from mita.accounts.roles import ROLE_SCOPE, Role
from mita.accounts.selectors import login_failures_recent
from mita.core.audit import audit_record, snapshot
from mita.core.errors import DomainError, Throttled
from mita.notifications.services import message_queue


class AccountError(DomainError):
    pass


def _phone_or_error(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except ValidationError as error:
        raise AccountError(error.messages[0], code="phone_invalid", fields={"phone": error.messages}) from None


@transaction.atomic
def user_create(
    *, phone: str, name: str, email: str = "", language: str = "en", password: str | None = None, acting_user: Any
) -> User:
    phone = _phone_or_error(phone)
    if User.objects.filter(phone=phone).exists():
        raise AccountError(
            _("A user with the phone number %(phone)s already exists.") % {"phone": phone},
            code="phone_taken",
            fields={"phone": [_("This phone number is already used by another user.")]},
        )
    user = User.objects.create_user(phone, password, name=name.strip(), email=email.strip(), language=language)
    audit_record(
        actor=acting_user, action="user.created", target=user, after=snapshot(user, ["phone", "name", "email"])
    )
    return user


@transaction.atomic
def membership_grant(*, user: User, role: str, organisation: Any, acting_user: Any) -> Membership:
    """Give a user a role at the regulator, a district or an operator (the role says which)."""
    scope = ROLE_SCOPE[Role(role)]
    fields: dict[str, Any] = {"regulator": None, "district": None, "operator": None}
    fields[str(scope)] = organisation
    membership, created = Membership.objects.get_or_create(user=user, role=role, **fields)
    if not created and not membership.is_active:
        membership.is_active = True
        membership.save(update_fields=["is_active"])
    audit_record(
        actor=acting_user,
        action="membership.granted",
        target=membership,
        operator=fields["operator"],
        after={"user": user.pk, "role": role, "organisation": str(organisation)},
    )
    return membership


@transaction.atomic
def membership_revoke(*, membership: Membership, acting_user: Any) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    audit_record(actor=acting_user, action="membership.revoked", target=membership, operator=membership.operator_id)
    return membership


def _invitation_link(raw_token: str) -> str:
    return settings.MITA_PUBLIC_URL + reverse("accounts:invitation_accept", args=[raw_token])


@transaction.atomic
def invitation_send(
    *, user: User, role: str, organisation: Any, acting_user: Any, operator: Any = None
) -> tuple[Invitation, str]:
    """Send the user a link (SMS, and e-mail if known) to set a password; returns the invitation and its raw token."""
    raw_token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user,
        token_hash=token_digest(raw_token),
        invited_by=acting_user if getattr(acting_user, "pk", None) else None,
        operator=operator,
        expires_at=timezone.now() + datetime.timedelta(days=settings.MITA_INVITATION_TTL_DAYS),
    )
    context = {
        "inviter": getattr(acting_user, "name", "") or "Mita",
        "role": str(Role(role).label),
        "organisation": str(organisation),
        "link": _invitation_link(raw_token),
    }
    message_queue(
        channel="sms",
        to=user.phone,
        template="accounts.invitation",
        context=context,
        language=user.language,
        operator=operator,
    )
    if user.email:
        message_queue(
            channel="email",
            to=user.email,
            template="accounts.invitation",
            context=context,
            language=user.language,
            operator=operator,
        )
    audit_record(actor=acting_user, action="invitation.sent", target=user, operator=operator)
    return invitation, raw_token


def invitation_get_usable(*, raw_token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("user").filter(token_hash=token_digest(raw_token)).first()
    return invitation if invitation is not None and invitation.is_usable else None


@transaction.atomic
def invitation_accept(*, raw_token: str, password: str, language: str) -> User:
    invitation = (
        Invitation.objects.select_for_update().select_related("user").filter(token_hash=token_digest(raw_token)).first()
    )
    if invitation is None or not invitation.is_usable:
        raise AccountError(
            _("This invitation link has expired or was already used. Ask your administrator for a new one."),
            code="invitation_invalid",
        )
    user = invitation.user
    _validate_new_password(password, user)
    user.set_password(password)
    user.language = language
    user.save(update_fields=["password", "language"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit_record(actor=user, action="invitation.accepted", target=user, operator=invitation.operator_id)
    return user


def _validate_new_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise AccountError(
            " ".join(error.messages), code="password_weak", fields={"password": error.messages}
        ) from None


# Logging in --------------------------------------------------------------------------------------------


def _throttle_message(phone: str) -> Throttled:
    window_minutes = settings.MITA_LOGIN_WINDOW_SECONDS // 60
    return Throttled(
        ngettext(
            "Too many wrong passwords for this account. Wait %(minutes)d minute and try again, or reset your password.",
            "Too many wrong passwords for this account. Wait %(minutes)d minutes and try again, or reset your password.",
            window_minutes,
        )
        % {"minutes": window_minutes},
        code="login_throttled",
    )


def login_authenticate(*, phone: str, password: str, request: Any = None, ip: str | None = None) -> User:
    """Check a phone and password; at most MITA_LOGIN_MAX_FAILURES failures per account per window."""
    try:
        phone = normalize_phone(phone)
    except ValidationError as error:
        raise AccountError(error.messages[0], code="phone_invalid", fields={"phone": error.messages}) from None
    if login_failures_recent(phone=phone) >= settings.MITA_LOGIN_MAX_FAILURES:
        raise _throttle_message(phone)
    user = authenticate(request, phone=phone, password=password)
    if user is None:
        LoginFailure.objects.create(phone=phone, ip=ip)
        if login_failures_recent(phone=phone) >= settings.MITA_LOGIN_MAX_FAILURES:
            raise _throttle_message(phone)
        raise AccountError(_("The phone number or the password is wrong."), code="login_failed", status=401)
    return user


# Forgotten passwords -------------------------------------------------------------------------------------


def password_reset_request(*, phone: str) -> None:
    """Send a code by SMS. Says nothing about whether the phone has an account; rate-limited per account."""
    phone = _phone_or_error(phone)
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time per account
        hour_ago = timezone.now() - datetime.timedelta(hours=1)
        if (
            PasswordResetCode.objects.filter(user=user, created_at__gte=hour_ago).count()
            >= settings.MITA_RESET_SENDS_PER_HOUR
        ):
            raise Throttled(
                _("A code was sent to this phone several times in the last hour. Use the last code or wait an hour."),
                code="reset_throttled",
            )
        code = f"{secrets.randbelow(10**6):06d}"
        PasswordResetCode.objects.create(
            user=user,
            code_hash=token_digest(f"{user.pk}:{code}"),
            expires_at=timezone.now() + datetime.timedelta(seconds=settings.MITA_RESET_CODE_TTL_SECONDS),
        )
        message_queue(
            channel="sms",
            to=user.phone,
            template="accounts.password_reset_code",
            context={"code": code},
            language=user.language,
        )
        audit_record(actor=None, action="password.reset_requested", target=user)


def password_reset_confirm(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password with the SMS code. A wrong code counts against the code's tries even though it fails."""
    phone = _phone_or_error(phone)
    with transaction.atomic():
        user, error = _password_reset_check(phone=phone, code=code, new_password=new_password)
    if error is not None:  # raised after the commit, so the used-up try stays counted
        raise error
    assert user is not None
    return user


def _password_reset_check(*, phone: str, code: str, new_password: str) -> tuple[User | None, AccountError | None]:
    invalid = AccountError(
        _("This code is wrong or has expired. Ask for a new code."),
        code="reset_code_invalid",
        fields={"code": [_("Wrong or expired code.")]},
    )
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return None, invalid
    reset = (
        PasswordResetCode.objects.select_for_update()
        .filter(user=user, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )
    if reset is None or reset.tries >= settings.MITA_RESET_CODE_MAX_TRIES:
        return None, invalid
    if not secrets.compare_digest(reset.code_hash, token_digest(f"{user.pk}:{code.strip()}")):
        reset.tries += 1
        reset.save(update_fields=["tries"])
        left = settings.MITA_RESET_CODE_MAX_TRIES - reset.tries
        if left <= 0:
            return None, AccountError(
                _("Too many wrong codes. Ask for a new code."),
                code="reset_code_exhausted",
                fields={"code": [_("Too many wrong codes.")]},
            )
        return None, AccountError(
            ngettext("Wrong code. %(left)d try left.", "Wrong code. %(left)d tries left.", left) % {"left": left},
            code="reset_code_wrong",
            fields={"code": [_("Wrong code.")]},
        )
    _validate_new_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    reset.used_at = timezone.now()
    reset.save(update_fields=["used_at"])
    LoginFailure.objects.filter(phone=user.phone).delete()
    audit_record(actor=user, action="password.reset", target=user)
    return user, None


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise AccountError(_("Choose one of the offered languages."), code="language_invalid")
    before = snapshot(user, ["language"])
    user.language = language
    user.save(update_fields=["language"])
    audit_record(actor=user, action="user.language_changed", target=user, before=before, after={"language": language})
    return user


# API tokens --------------------------------------------------------------------------------------------

TOKEN_PREFIX = "mita_"  # noqa: S105 - a prefix, not a secret


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[:12], digest=token_digest(raw))
    audit_record(actor=user, action="api_token.created", target=user, detail={"name": name, "prefix": token.prefix})
    return token, raw


def api_token_authenticate(*, raw: str) -> User | None:
    found = api_token_user(raw=raw)
    return found[0] if found else None


def api_token_user(*, raw: str) -> tuple[User, datetime.datetime | None] | None:
    """The active user a live API token belongs to, and when the token expires (None: never)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # coarse, to keep reads cheap
    return token.user, token.expires_at


@transaction.atomic
def user_invite(
    *,
    phone: str,
    name: str,
    email: str,
    language: str,
    role: str,
    organisation: Any,
    acting_user: Any,
    operator: Any = None,
) -> User:
    """Give a role to a person (a new user, or one who already works elsewhere) and invite them by SMS."""
    phone = _phone_or_error(phone)
    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = user_create(phone=phone, name=name, email=email, language=language, acting_user=acting_user)
    elif Membership.objects.filter(
        user=user, role=role, is_active=True, **{ROLE_SCOPE[Role(role)]: organisation}
    ).exists():
        raise AccountError(
            _("%(name)s already has this role here.") % {"name": user.name},
            code="membership_exists",
            fields={"role": [_("Already given to this person.")]},
        )
    membership_grant(user=user, role=role, organisation=organisation, acting_user=acting_user)
    if not user.has_usable_password():
        invitation_send(user=user, role=role, organisation=organisation, acting_user=acting_user, operator=operator)
    return user
