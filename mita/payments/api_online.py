"""API for online payments: a customer account's payment link (made or reused, and sent by SMS on request), the
operator's online checkouts, and resolving one left in review. Amounts travel as decimal strings, never floats."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import request_access, require_api_roles
from mita.core.tenancy import get_for_access_or_404
from mita.payments.api import _amount
from mita.payments.models_online import OnlineCheckout
from mita.payments.online import payment_link_for, payment_link_send, payment_link_url
from mita.payments.online_review import REVIEW_ROLES, online_review_dismiss, online_review_record
from mita.payments.selectors import PAYMENT_ROLES, holder_get_for_access
from mita.payments.services import PaymentError

router = Router(tags=["online payments"])


class PaymentLinkIn(Schema):
    amount: str | None = None  # a decimal string; empty: what the account owes when the customer pays
    phone: str = ""  # with send_sms: the customer's phone
    send_sms: bool = False


class PaymentLinkOut(Schema):
    holder: str
    url: str
    amount: Decimal | None
    expires_at: datetime.datetime
    sms_id: int | None = None


@router.post(
    "/accounts/{holder}/payment-link",
    response=PaymentLinkOut,
    summary="A link the customer pays the account with online (reused while usable), sent by SMS if asked",
)
def account_payment_link(request: HttpRequest, holder: str, payload: PaymentLinkIn) -> dict[str, Any]:
    """Without an amount the account's open link is given again while it has at least half its life left. With
    `send_sms` the link goes to `phone` by SMS at once. 409 `online_disabled` when the operator takes no online
    payments."""
    require_api_roles(request, *PAYMENT_ROLES)
    access = request_access(request)
    operator = access.operator
    holder = holder_get_for_access(access=access, holder=holder)
    amount = _amount(payload.amount, operator.currency) if payload.amount not in (None, "") else None
    sms_id = None
    if payload.send_sms:
        link, sms = payment_link_send(
            operator=operator, holder=holder, phone=payload.phone, amount=amount, acting_user=request.user
        )
        sms_id = sms.pk
    else:
        found = payment_link_for(operator=operator, holder=holder, amount=amount, acting_user=request.user)
        if found is None:
            raise PaymentError(
                _("%(operator)s does not take online payments: an operator admin turns them on in the settings.")
                % {"operator": operator.name},
                code="online_disabled",
                status=409,
            )
        link = found
    return {
        "holder": link.holder,
        "url": payment_link_url(link=link),
        "amount": link.amount,
        "expires_at": link.expires_at,
        "sms_id": sms_id,
    }


class CheckoutOut(Schema):
    id: int
    holder: str
    tx_ref: str
    amount: Decimal
    currency: str
    payer_phone: str
    status: str
    transaction_id: str
    confirmed_amount: Decimal | None
    reason: str
    payment_id: int | None
    created_at: datetime.datetime
    resolution_note: str


@router.get("/online-checkouts", response=list[CheckoutOut], summary="The operator's online checkouts, newest first")
@paginate(LimitOffsetPagination)
def checkout_list(request: HttpRequest, status: str = "") -> QuerySet[OnlineCheckout]:
    """`status` filters: pending, successful, failed, cancelled, expired, review, resolved."""
    require_api_roles(request, *PAYMENT_ROLES)
    checkouts = OnlineCheckout.objects.for_operator(request_access(request).operator)
    return checkouts.filter(status=status) if status else checkouts


class ReviewIn(Schema):
    decision: str  # "record" or "dismiss"
    note: str
    amount: str | None = None  # for "record": a decimal string in the operator's currency
    holder: str = ""  # for "record": empty = the checkout's account


@router.post(
    "/online-checkouts/{checkout_id}/review",
    response=CheckoutOut,
    summary="Resolve a checkout in review: record it as a payment, or close it as settled outside Mita",
)
def checkout_review(request: HttpRequest, checkout_id: int, payload: ReviewIn) -> OnlineCheckout:
    require_api_roles(request, *REVIEW_ROLES)
    access = request_access(request)
    checkout = get_for_access_or_404(
        OnlineCheckout.objects.select_related("operator"), access, pk=checkout_id, operator=access.operator
    )
    if payload.decision == "record":
        amount: Decimal = _amount(payload.amount or "", checkout.operator.currency)
        return online_review_record(
            checkout=checkout, amount=amount, holder=payload.holder, note=payload.note, acting_user=request.user
        )
    if payload.decision == "dismiss":
        return online_review_dismiss(checkout=checkout, note=payload.note, acting_user=request.user)
    raise PaymentError(
        _('Choose the decision "record" or "dismiss".'),
        code="decision_invalid",
        fields={"decision": [_('Choose "record" or "dismiss".')]},
    )
