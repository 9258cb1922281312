"""Domain errors: what a user did wrong, with a stable code and a translated message."""

from typing import Any


class DomainError(Exception):
    """An error the user can cause and fix. The API turns it into {"error": {...}} with a 4xx status."""

    status = 400

    def __init__(
        self,
        message: Any,
        *,
        code: str,
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.fields = fields or {}
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self.message), "fields": self.fields}}


class PermissionDenied(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Throttled(DomainError):
    status = 429
