"""Authentication by phone number and password."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from mita.accounts.models import User


class PhoneBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, phone: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        phone = phone or kwargs.get("username")
        if not phone or password is None:
            return None
        user = User.objects.filter(phone=phone).first()
        if user is None:
            User().set_password(password)  # same time spent whether or not the phone exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
