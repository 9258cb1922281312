"""Outbox pages for operator and regulator admins, and the delivery-report callback of Africa's Talking."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.integrations.africastalking.client import AfricasTalkingError
from mita.notifications import selectors, services
from mita.notifications.africastalking import delivery_report_apply
from mita.notifications.forms import OutboxFilterForm
from mita.notifications.models import OutboxMessage

logger = logging.getLogger(__name__)


def _excerpt(message: OutboxMessage) -> str:
    if not message.body_readable:
        return message.template
    return message.body if len(message.body) <= 60 else message.body[:60] + "…"


@login_required
@require_roles(*selectors.OUTBOX_ROLES)
def outbox_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = OutboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    outbox = selectors.outbox_messages_visible_to(
        access=access,
        status=filters.get("status", ""),
        channel=filters.get("channel", ""),
        to=filters.get("to", ""),
    )
    columns = [
        Column(
            "created_at",
            gettext_lazy("Created"),
            order_by="created_at",
            link=lambda message: reverse("notifications:outbox_detail", args=[message.pk]),
        ),
        Column("channel", gettext_lazy("Channel"), order_by="channel", value=lambda m: m.get_channel_display()),
        Column("to", pgettext_lazy("recipient of a message", "To"), order_by="to"),
        Column("body", gettext_lazy("Message"), order_by="template", value=_excerpt),
        Column("status", gettext_lazy("Status"), order_by="status", value=lambda m: m.get_status_display()),
        Column("attempts", gettext_lazy("Attempts"), order_by="attempts"),
        Column("last_error", gettext_lazy("Last error"), value=lambda m: m.last_error[:80]),
    ]
    if access.operator_ids() is None:
        columns.insert(1, Column("operator", gettext_lazy("Operator"), value=lambda m: m.operator or "—"))
    return render(
        request,
        "notifications/outbox_list.html",
        {
            "table": table(request, outbox, columns, default_sort="-created_at"),
            "form": form,
            "failed_count": selectors.outbox_failed_count(access=access),
        },
    )


def _message_for_admin(request: HttpRequest, message_id: int) -> OutboxMessage:
    """Look up through the tenancy rules first (another operator's message is a 404 whatever the role), then
    the role (a 403 for someone of the same operator without the right to read its outbox)."""
    access = request.access  # type: ignore[attr-defined]
    message = selectors.outbox_message_get_for_access(access=access, message_id=message_id)
    if not access.has_role(*selectors.OUTBOX_ROLES):
        raise PermissionDenied
    return message


@login_required
def outbox_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message_for_admin(request, message_id)
    access = request.access  # type: ignore[attr-defined]
    return render(
        request,
        "notifications/outbox_detail.html",
        {
            "message": message,
            "may_send_again": selectors.message_may_send_again(access=access, message=message),
            "audit_entries": audit_for(message)[:50],
        },
    )


@login_required
@require_POST
def outbox_send_again(request: HttpRequest, message_id: int) -> HttpResponse:
    message = _message_for_admin(request, message_id)
    access = request.access  # type: ignore[attr-defined]
    if not selectors.message_may_send_again(access=access, message=message):
        if message.can_be_sent_again:
            raise PermissionDenied
        messages.error(request, _("Only a failed message can be sent again."))
        return redirect("notifications:outbox_detail", message_id=message.pk)
    try:
        services.message_retry(message=message, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The message is back in the queue and will be sent in a moment."))
    return redirect("notifications:outbox_detail", message_id=message.pk)


@csrf_exempt
def at_delivery_report(request: HttpRequest, secret: str) -> HttpResponse:
    """Africa's Talking posts a form for each change of a message's delivery; the URL's secret authenticates it."""
    expected = settings.MITA_AT_DELIVERY_SECRET
    if not expected or not constant_time_compare(secret, expected):
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        updated = delivery_report_apply(form=request.POST)
    except AfricasTalkingError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    if not updated:
        # Answer 200 all the same: AT would otherwise post the report again and again.
        logger.info("delivery report for unknown message %s", request.POST.get("id", ""))
    return HttpResponse("OK", content_type="text/plain")
