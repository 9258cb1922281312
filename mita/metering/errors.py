"""The metering domain error."""

from mita.core.errors import DomainError


class MeteringError(DomainError):
    """A metering operation that cannot run as asked: the message says what to fix."""
