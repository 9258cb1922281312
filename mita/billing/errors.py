"""The error billing raises for what a user can fix (a code, a translated message, the fields)."""

from mita.core.errors import DomainError


class BillingError(DomainError):
    pass
