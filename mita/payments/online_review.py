"""Online checkouts the gateway verified as paid but Mita could not take (another currency, a key already used, an
account refusing the payment) wait in review. A treasurer resolves each: records it as a payment on the right
account, or, when the money was settled outside Mita (refunded at the gateway, say), closes it with a note."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.roles import Role
from mita.core.audit import audit_record
from mita.core.errors import DomainError
from mita.core.money import quantize
from mita.payments.models import Channel
from mita.payments.models_online import OnlineCheckout
from mita.payments.services import payment_receive

REVIEW_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
NOTE_MIN_LENGTH = 5


class ReviewError(DomainError):
    pass


def _in_review(checkout: OnlineCheckout) -> OnlineCheckout:
    """The checkout, locked, if it still waits for review; else a clear error (someone resolved it meanwhile)."""
    locked = OnlineCheckout.objects.select_for_update().select_related("operator").get(pk=checkout.pk)
    if locked.status != OnlineCheckout.Status.REVIEW:
        raise ReviewError(
            _("This online payment does not wait for review: it is %(status)s.")
            % {"status": locked.get_status_display()},
            code="checkout_not_in_review",
        )
    return locked


def _note_or_error(note: str) -> str:
    note = (note or "").strip()
    if len(note) < NOTE_MIN_LENGTH:
        raise ReviewError(
            _("Say what was decided and why (at least %(count)s characters).") % {"count": NOTE_MIN_LENGTH},
            code="review_note_required",
            fields={"note": [_("Write a note.")]},
        )
    return note[:500]


def online_review_record(
    *, checkout: OnlineCheckout, amount: Decimal, holder: str, note: str, acting_user: Any
) -> OnlineCheckout:
    """Take a reviewed checkout as a payment: `amount` in the operator's currency (what the gateway settles to the
    operator when the customer paid in another), on `holder` (the checkout's account unless the treasurer names the
    right one; an account that matches nothing lands in suspense, as any payment). Keyed on the checkout, so a
    double click records one payment."""
    note = _note_or_error(note)
    with transaction.atomic():
        checkout = _in_review(checkout)
        operator = checkout.operator
        if not isinstance(amount, Decimal) or amount <= 0:
            raise ReviewError(
                _("Give the amount received, in %(currency)s, above zero.") % {"currency": operator.currency},
                code="amount_invalid",
                fields={"amount": [_("Enter an amount above zero.")]},
            )
        payment = payment_receive(
            operator=operator,
            channel=Channel.ONLINE,
            amount=quantize(amount, operator.currency),
            account_reference=(holder or checkout.holder).strip(),
            idempotency_key=f"online-review:{checkout.tx_ref}",
            received_by=acting_user,
            provider_reference=checkout.transaction_id,
            payer_phone=checkout.payer_phone,
            memo={"tx_ref": checkout.tx_ref, "review": note, "gateway_amount": str(checkout.confirmed_amount or "")},
        )
        checkout.payment = payment
        checkout.status = OnlineCheckout.Status.SUCCESSFUL
        _resolve(checkout, note, acting_user, action="online.review_recorded", extra={"payment": payment.pk})
    return checkout


def online_review_dismiss(*, checkout: OnlineCheckout, note: str, acting_user: Any) -> OnlineCheckout:
    """Close a reviewed checkout with no payment in Mita: the money was settled outside (refunded by the gateway,
    paid back by hand); the note says how."""
    note = _note_or_error(note)
    with transaction.atomic():
        checkout = _in_review(checkout)
        checkout.status = OnlineCheckout.Status.RESOLVED
        _resolve(checkout, note, acting_user, action="online.review_dismissed", extra={})
    return checkout


def _resolve(checkout: OnlineCheckout, note: str, acting_user: Any, *, action: str, extra: dict[str, Any]) -> None:
    checkout.resolved_by = acting_user
    checkout.resolved_at = timezone.now()
    checkout.resolution_note = note
    checkout.save(update_fields=["payment", "status", "resolved_by", "resolved_at", "resolution_note"])
    audit_record(
        actor=acting_user,
        action=action,
        target=checkout,
        operator=checkout.operator,
        before={"status": OnlineCheckout.Status.REVIEW, "reason": checkout.reason},
        after={"status": checkout.status, "note": note, **extra},
    )
