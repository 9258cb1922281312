"""Users who log in by phone, their memberships (a role at an organisation), invitations, codes and tokens."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.accounts.phones import normalize_phone
from mita.accounts.roles import ROLE_SCOPE, Role, Scope


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, phone: str, password: str | None = None, **fields: object) -> "User":
        user = self.model(phone=normalize_phone(phone), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **fields: object) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    phone = models.CharField(_("phone number"), max_length=20, unique=True, help_text=_("E.164, e.g. +250788123456"))
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("site staff"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})" if self.name else self.phone

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.phone


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> "MembershipQuerySet":
        return self.filter(is_active=True, user__is_active=True)


class Membership(models.Model):
    """A role held by a user at the regulator, a district, or an operator."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    scope = models.CharField(_("held at"), max_length=16, choices=Scope.choices, editable=False)
    regulator = models.ForeignKey(
        "registry.Regulator", null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    district = models.ForeignKey(
        "registry.Boundary", null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    operator = models.ForeignKey(
        "registry.Operator", null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="membership_held_at_one_organisation",
                condition=(
                    models.Q(
                        scope=Scope.REGULATOR, regulator__isnull=False, district__isnull=True, operator__isnull=True
                    )
                    | models.Q(
                        scope=Scope.DISTRICT, regulator__isnull=True, district__isnull=False, operator__isnull=True
                    )
                    | models.Q(
                        scope=Scope.OPERATOR, regulator__isnull=True, district__isnull=True, operator__isnull=False
                    )
                ),
            ),
            *(
                models.UniqueConstraint(
                    fields=["user", "role", organisation],
                    condition=models.Q(scope=scope),
                    name=f"membership_unique_role_per_{organisation}",
                )
                for scope, organisation in (
                    (Scope.REGULATOR, "regulator"),
                    (Scope.DISTRICT, "district"),
                    (Scope.OPERATOR, "operator"),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.scope = ROLE_SCOPE[self.role]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def workspace_key(self) -> str:
        organisation_id = self.regulator_id or self.district_id or self.operator_id
        return f"{self.scope}:{organisation_id}"


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Invitation(models.Model):
    """A link sent by SMS (and e-mail) to set a password and choose a language."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    operator = models.ForeignKey("registry.Operator", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class PasswordResetCode(models.Model):
    """A 6-digit code sent by SMS: 5 tries, 10 minutes."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reset_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reset code for {self.user}"


class LoginFailure(models.Model):
    """A failed login, counted per account to throttle guessing (kept in the database: many web processes)."""

    phone = models.CharField(max_length=20, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.phone} at {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A bearer token for integrations and the field app; only its digest is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
