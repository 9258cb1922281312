"""Outbox pages (written by the notifications work)."""

from django.http import HttpRequest, HttpResponse


def outbox_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def outbox_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    raise NotImplementedError
