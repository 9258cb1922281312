"""M-Pesa through Daraja: paybill (C2B) validation and confirmation, STK push and its result, each operator's setup.

Money is matched on the account reference the payer typed (BillRefNumber) or the one Mita sent with an STK push,
never on the phone number. A confirmation is a payment_receive with the key mpesa:<TransID>, and an STK push result
one with the key mpesa:<MpesaReceiptNumber>: the same M-Pesa transaction reported both ways is one payment, a replay
returns the first payment, and the same key with another amount or account is refused (409) and written to the
audit log. A reference that matches no customer account is taken into suspense, unless the operator asked for such
payments to be refused at validation (docs/mpesa.md).

An STK push whose result callback never comes is completed by the STK Push Query (payments.mpesa_query), which
carries no receipt number: its payment is keyed mpesa:stk:<CheckoutRequestID>. Whoever reports a push paid first (the
callback or the query) makes its one payment, under the push's row lock; a later report only adds the receipt number.
"""

import dataclasses
import datetime
import hashlib
import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from mita.accounts.phones import normalize_phone
from mita.core.audit import audit_record
from mita.core.errors import Conflict, NotFound
from mita.core.money import quantize
from mita.integrations.mpesa.client import DarajaClient, MpesaError
from mita.integrations.mpesa.protocol import (
    RESPONSE_TYPES,
    VALIDATION_ACCEPTED,
    C2BNotification,
    StkResult,
    callback_secret,
    json_safe,
)
from mita.ledger.selectors import holder_known
from mita.payments.callbacks import address_check, allowed_networks, source_address
from mita.payments.models import Channel, Payment
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest
from mita.payments.services import PaymentError, payment_assign, payment_receive

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "MITA_MPESA_BASE_URL": "http://127.0.0.1:8640",
    "MITA_MPESA_CONSUMER_KEY": "fake-consumer-key",
    "MITA_MPESA_CONSUMER_SECRET": "fake-consumer-secret",
    "MITA_MPESA_TIMEOUT_SECONDS": 10.0,
    # Proxies in front of Mita that append to X-Forwarded-For; 0 takes the caller's address from the connection.
    "MITA_MPESA_FORWARDED_FOR_HOPS": 0,
    # The poller leaves an STK push alone this long after it was made or last queried (the callback's time to come).
    "MITA_MPESA_STK_POLL_AFTER_SECONDS": 60,
    # A push still unanswered this long after it was made is given up as expired (a later paid result still counts).
    "MITA_MPESA_STK_EXPIRE_AFTER_SECONDS": 60 * 60,
    "MITA_MPESA_STK_POLL_BATCH": 200,
}
# Safaricom's numbers are Kenyan: a number typed without a country code is read as one.
PHONE_REGION = "KE"
# Daraja's limits on what an STK push carries.
ACCOUNT_REFERENCE_MAX = 12
TRANSACTION_DESC_MAX = 13
# The account reference of a paybill payment that came without one (it goes to suspense).
NO_REFERENCE = "(none)"


def mpesa_setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def mpesa_client(*, config: MpesaChannelConfig) -> DarajaClient:
    """A Daraja client for the operator's app (its own consumer key if it has one, else the installation's)."""
    return DarajaClient(
        base_url=str(mpesa_setting("MITA_MPESA_BASE_URL")),
        consumer_key=config.consumer_key or str(mpesa_setting("MITA_MPESA_CONSUMER_KEY")),
        consumer_secret=config.consumer_secret or str(mpesa_setting("MITA_MPESA_CONSUMER_SECRET")),
        timeout=float(mpesa_setting("MITA_MPESA_TIMEOUT_SECONDS")),
    )


def _daraja_failed(error: MpesaError) -> PaymentError:
    # Daraja saying no to what we asked is the asker's to fix; Daraja out of reach or refusing our app is not.
    return PaymentError(
        _("M-Pesa did not take the request: %(reason)s") % {"reason": error},
        code=f"mpesa_{error.kind}",
        status=400 if error.kind in ("rejected", "invalid_request") else 502,
    )


# Setup -----------------------------------------------------------------------------------------------------------


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def mpesa_channel_configure(
    *,
    operator: Any,
    acting_user: Any,
    shortcode: str | None = None,
    passkey: str | None = None,
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    allowed_ips: Iterable[str] | None = None,
    reject_unknown_references: bool | None = None,
    enabled: bool | None = None,
    rotate_secret: bool = False,
) -> MpesaChannelConfig:
    """Set up (or change) an operator's paybill: a callback secret made here, the addresses Safaricom may call from.

    Fields left as None keep their value. A rotated secret changes every callback URL: register them again."""
    config = MpesaChannelConfig.objects.select_for_update().filter(operator=operator).first()
    created = config is None
    if config is None:
        if not (shortcode or "").strip():
            raise PaymentError(
                _("Give the paybill number."), code="shortcode_required", fields={"shortcode": [_("Required.")]}
            )
        config = MpesaChannelConfig(operator=operator)
    if created or rotate_secret:
        config.callback_secret = callback_secret()
        config.callback_secret_digest = secret_digest(config.callback_secret)
    if shortcode is not None:
        shortcode = shortcode.strip()
        if not shortcode.isdigit() or len(shortcode) > 12:
            raise PaymentError(
                _("A paybill number is digits only."),
                code="shortcode_invalid",
                fields={"shortcode": [_("Digits only, such as 600638.")]},
            )
        config.shortcode = shortcode
    for name, value in (("passkey", passkey), ("consumer_key", consumer_key), ("consumer_secret", consumer_secret)):
        if value is not None:
            setattr(config, name, value.strip())
    if allowed_ips is not None:
        config.allowed_ips = allowed_networks(allowed_ips, example="196.201.214.0/24")
    if reject_unknown_references is not None:
        config.reject_unknown_references = reject_unknown_references
    if enabled is not None:
        config.enabled = enabled
    config.save()
    audit_record(
        actor=acting_user,
        action="mpesa.configured",
        target=config,
        operator=operator,
        after={
            "shortcode": config.shortcode,
            "allowed_ips": config.allowed_ips,
            "reject_unknown_references": config.reject_unknown_references,
            "enabled": config.enabled,
            "own_consumer_key": bool(config.consumer_key),
            "passkey": "set" if config.passkey else "none",
            "secret": "made" if created else ("rotated" if rotate_secret else "kept"),
        },
    )
    return config


@dataclasses.dataclass(frozen=True)
class MpesaCallbackUrls:
    validation: str
    confirmation: str
    stk: str


def mpesa_callback_urls(*, config: MpesaChannelConfig) -> MpesaCallbackUrls:
    """The operator's callback URLs, on this installation's public address (MITA_PUBLIC_URL)."""
    base = str(settings.MITA_PUBLIC_URL).rstrip("/")
    secret = config.callback_secret
    return MpesaCallbackUrls(
        validation=base + reverse("mpesa:c2b_validation", args=[secret]),
        confirmation=base + reverse("mpesa:c2b_confirmation", args=[secret]),
        stk=base + reverse("mpesa:stk_callback", args=[secret]),
    )


def mpesa_urls_register(
    *, config: MpesaChannelConfig, acting_user: Any, response_type: str = "Completed"
) -> MpesaCallbackUrls:
    """Register the operator's validation and confirmation URLs for its paybill with Daraja.

    response_type is what M-Pesa does when the validation URL does not answer: "Completed" takes the payment all
    the same (it then reaches the confirmation URL and, if unmatched, suspense), "Cancelled" refuses it."""
    if response_type not in RESPONSE_TYPES:
        raise PaymentError(
            _("Choose what M-Pesa does when Mita does not answer: Completed or Cancelled."),
            code="response_type_invalid",
        )
    urls = mpesa_callback_urls(config=config)
    try:
        mpesa_client(config=config).register_urls(
            shortcode=config.shortcode,
            confirmation_url=urls.confirmation,
            validation_url=urls.validation,
            response_type=response_type,
        )
    except MpesaError as error:
        raise _daraja_failed(error) from error
    audit_record(
        actor=acting_user,
        action="mpesa.urls_registered",
        target=config,
        operator=config.operator_id,
        detail={"shortcode": config.shortcode, "response_type": response_type},
    )
    return urls


# Callbacks: who is calling -------------------------------------------------------------------------------------


def mpesa_callback_source_ip(meta: dict[str, Any]) -> str:
    return source_address(meta, forwarded_for_hops=int(mpesa_setting("MITA_MPESA_FORWARDED_FOR_HOPS")))


def mpesa_callback_authorise(*, secret: str, source_ip: str) -> MpesaChannelConfig:
    """The operator whose callback secret this is (else 404), if the caller's address is allowed (else 403).

    The row is found by the secret's digest, so the lookup learns nothing about the secret's characters; the secret
    itself is then compared in constant time."""
    config = (
        MpesaChannelConfig.objects.select_related("operator")
        .filter(callback_secret_digest=secret_digest(secret))
        .first()
    )
    expected = config.callback_secret if config is not None else secrets.token_hex(24)
    if not constant_time_compare(secret, expected) or config is None:
        raise NotFound(_("No such callback."), code="callback_unknown")
    address_check(
        allowed_ips=config.allowed_ips, source_ip=source_ip, provider="M-Pesa", operator_id=config.operator_id
    )
    return config


def _refusal_record(*, config: MpesaChannelConfig, kind: str, error: Exception, key: str, raw: dict[str, Any]) -> None:
    """Keep a refused callback in the audit log (outside any transaction the refusal rolled back)."""
    audit_record(
        actor=None,
        action="mpesa.callback_refused",
        operator=config.operator_id,
        detail={"kind": kind, "key": key, "code": getattr(error, "code", ""), "reason": str(error), "body": raw},
    )


# Paybill (C2B) ---------------------------------------------------------------------------------------------------


def c2b_validate(*, config: MpesaChannelConfig, notification: C2BNotification) -> str:
    """Whether to let a paybill payment through: "0" to accept, or the C2B000xx code to refuse it with.

    Unknown account numbers are accepted (they go to suspense) unless the operator chose to refuse them here."""
    if not config.enabled:
        return "C2B00016"
    if quantize(notification.amount, config.operator.currency) != notification.amount:
        return "C2B00013"  # finer than the currency's smallest unit: the confirmation would be refused
    if config.reject_unknown_references and not holder_known(
        operator=config.operator, reference=notification.bill_ref_number
    ):
        return "C2B00012"
    return VALIDATION_ACCEPTED


def _amount(*, operator: Any, amount: Decimal, field: str) -> Decimal:
    """The amount in the operator's currency; one finer than its smallest unit is refused, never rounded."""
    if quantize(amount, operator.currency) != amount:
        raise PaymentError(
            _("%(amount)s is not an amount in %(currency)s.") % {"amount": amount, "currency": operator.currency},
            code="amount_invalid",
            fields={field: [_("Finer than the currency's smallest unit.")]},
        )
    return amount


def _value_date(moment: datetime.datetime | None) -> datetime.date:
    return timezone.localtime(moment).date() if moment is not None else timezone.localdate()


def c2b_confirm(*, config: MpesaChannelConfig, notification: C2BNotification) -> Payment:
    """Record a paybill payment Safaricom confirms: once per TransID, on the account its BillRefNumber names.

    Taken even when the channel is disabled: the customer's money has already moved."""
    key = f"mpesa:{notification.trans_id}"
    amount = _amount(operator=config.operator, amount=notification.amount, field="TransAmount")
    if (recorded := _stk_payment_of_receipt(config=config, receipt=notification.trans_id, key=key)) is not None:
        # The M-Pesa transaction of an STK push already recorded from the STK query (keyed by CheckoutRequestID) and
        # whose receipt number the late callback has since told: the same money, reported again.
        reference = notification.bill_ref_number or NO_REFERENCE
        if recorded.amount == amount and recorded.account_reference.strip().lower() == reference.strip().lower():
            return recorded
        error = Conflict(
            _(
                "M-Pesa transaction %(receipt)s was already recorded from its STK push (%(amount)s %(currency)s for "
                "%(account)s)."
            )
            % {
                "receipt": notification.trans_id,
                "amount": recorded.amount,
                "currency": recorded.currency,
                "account": recorded.account_reference,
            },
            code="idempotency_key_reused",
        )
        _refusal_record(config=config, kind="c2b_confirmation", error=error, key=key, raw=json_safe(notification.raw))
        raise error
    try:
        return payment_receive(
            operator=config.operator,
            channel=Channel.MPESA,
            amount=amount,
            account_reference=notification.bill_ref_number or NO_REFERENCE,
            idempotency_key=key,
            received_by=None,
            value_date=_value_date(notification.trans_time),
            provider_reference=notification.trans_id,
            payer_phone=notification.msisdn if len(notification.msisdn) <= 20 else "",
            payer_name=notification.payer_name,
            memo={"mpesa_c2b": json_safe(notification.raw)},
        )
    except Conflict as error:
        _refusal_record(config=config, kind="c2b_confirmation", error=error, key=key, raw=json_safe(notification.raw))
        raise


# STK push (Lipa Na M-Pesa Online) -----------------------------------------------------------------------------


def stk_push(
    *,
    operator: Any,
    account_reference: str,
    amount: Decimal,
    phone: str,
    acting_user: Any,
    idempotency_key: str = "",
) -> StkRequest:
    """Prompt a customer's phone to pay `amount` to the operator's paybill for a customer account.

    The request is saved before Daraja hears of it; the result arrives later at the STK callback (or the poller asks
    for it). With an idempotency key, sending the same push again returns the first one and prompts nobody twice;
    the same key for another account, amount or phone is a 409."""
    config = MpesaChannelConfig.objects.filter(operator=operator).first()
    if config is None or not config.enabled:
        raise PaymentError(_("M-Pesa is not set up for this operator."), code="mpesa_not_configured")
    if not config.passkey:
        raise PaymentError(
            _("M-Pesa prompts need the paybill's Lipa Na M-Pesa Online passkey."), code="mpesa_passkey_missing"
        )
    account_reference = (account_reference or "").strip()
    if not account_reference:
        raise PaymentError(
            _("Say which customer account is paying."),
            code="account_reference_required",
            fields={"account_reference": [_("Required.")]},
        )
    holder = holder_known(operator=operator, reference=account_reference)
    if holder is None:
        raise PaymentError(
            _("No customer account %(reference)s.") % {"reference": account_reference},
            code="account_unknown",
            fields={"account_reference": [_("No such customer account.")]},
        )
    if len(holder) > ACCOUNT_REFERENCE_MAX:
        raise PaymentError(
            _("M-Pesa carries account references of %(max)s characters at most.") % {"max": ACCOUNT_REFERENCE_MAX},
            code="account_reference_too_long",
            fields={"account_reference": [_("Too long for M-Pesa.")]},
        )
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or amount != amount.to_integral_value():
        raise PaymentError(
            _("M-Pesa prompts are for a whole amount of more than zero."),
            code="amount_invalid",
            fields={"amount": [_("A whole amount, more than zero.")]},
        )
    amount = quantize(amount, operator.currency)
    try:
        msisdn = normalize_phone(phone, region=PHONE_REGION).removeprefix("+")
    except ValidationError as error:
        raise PaymentError(error.messages[0], code="phone_invalid", fields={"phone": error.messages}) from None
    key = (idempotency_key or "").strip()
    if len(key) > 120:
        raise PaymentError(
            _("An idempotency key has 120 characters at most."),
            code="idempotency_key_invalid",
            fields={"idempotency_key": [_("120 characters at most.")]},
        )
    same: dict[str, Any] = {"account_reference": holder, "amount": amount, "phone": msisdn}
    if key and (first := StkRequest.objects.filter(operator=operator, idempotency_key=key).first()):
        return _stk_replay(first, key=key, **same)
    try:
        with transaction.atomic():
            stk = StkRequest.objects.create(
                operator=operator,
                account_reference=holder,
                amount=amount,
                currency=operator.currency,
                phone=msisdn,
                idempotency_key=key,
                requested_by=acting_user if getattr(acting_user, "pk", None) else None,
            )
            audit_record(
                actor=acting_user,
                action="mpesa.stk_requested",
                target=stk,
                after={"account_reference": holder, "amount": amount, "phone": msisdn, "key": key or None},
            )
    except IntegrityError:
        # The same key sent twice at once: the other one committed first, and it alone prompts the customer.
        first = StkRequest.objects.filter(operator=operator, idempotency_key=key).first() if key else None
        if first is None:
            raise
        return _stk_replay(first, key=key, **same)
    try:
        accepted = mpesa_client(config=config).stk_push(
            shortcode=config.shortcode,
            passkey=config.passkey,
            amount=int(amount),
            phone=msisdn,
            callback_url=mpesa_callback_urls(config=config).stk,
            account_reference=holder,
            description=f"{operator.prefix} bill"[:TRANSACTION_DESC_MAX],
        )
    except MpesaError as error:
        StkRequest.objects.filter(pk=stk.pk).update(
            status=StkRequest.Status.FAILED, result_desc=str(error)[:255], completed_at=timezone.now()
        )
        raise _daraja_failed(error) from error
    StkRequest.objects.filter(pk=stk.pk).update(
        checkout_request_id=accepted.checkout_request_id, merchant_request_id=accepted.merchant_request_id[:100]
    )
    stk.refresh_from_db()
    return stk


def _stk_replay(first: StkRequest, *, key: str, account_reference: str, amount: Decimal, phone: str) -> StkRequest:
    if (first.account_reference, first.amount, first.phone) != (account_reference, amount, phone):
        raise Conflict(
            _(
                "The key %(key)s was already used for another M-Pesa prompt (%(amount)s %(currency)s for %(account)s). "
                "Send a new key for a new prompt."
            )
            % {"key": key, "amount": first.amount, "currency": first.currency, "account": first.account_reference},
            code="idempotency_key_reused",
        )
    return first


def stk_result_apply(*, config: MpesaChannelConfig, result: StkResult) -> StkRequest | None:
    """Safaricom's word on an STK push: paid (a payment, once per push and per receipt number) or not (it fails).

    The callback does not carry the account reference: it is the one saved with the request. A paid result for a
    push Mita does not know is taken into suspense rather than lost. Returns the request, if known."""
    operator = config.operator
    stk = StkRequest.objects.filter(operator=operator, checkout_request_id=result.checkout_request_id).first()
    if not result.paid:
        if stk is None:
            logger.info("M-Pesa STK result %s for unknown push %s", result.result_code, result.checkout_request_id)
            return None
        return stk_failed(
            stk_id=stk.pk, result_code=result.result_code, result_desc=result.result_desc, via=StkRequest.Via.CALLBACK
        )
    assert result.amount is not None  # parse_stk_callback makes sure of it for a paid result
    amount = _amount(operator=operator, amount=result.amount, field="Amount")
    key = f"mpesa:{result.receipt}"
    memo: dict[str, Any] = {"mpesa_stk": json_safe(result.raw)}
    try:
        if stk is None:
            payment_receive(
                operator=operator,
                channel=Channel.MPESA,
                amount=amount,
                account_reference=_unknown_push_reference(result.checkout_request_id),
                idempotency_key=key,
                received_by=None,
                value_date=_value_date(result.transaction_date),
                provider_reference=result.receipt,
                payer_phone=result.phone if len(result.phone) <= 20 else "",
                memo=memo,
            )
            logger.warning(
                "M-Pesa STK payment %s for unknown push %s held in suspense", result.receipt, result.checkout_request_id
            )
            return None
        if amount != stk.amount:
            memo["amount_asked"] = str(stk.amount)
        return stk_paid(
            stk_id=stk.pk,
            amount=amount,
            key=key,
            receipt=result.receipt,
            phone=result.phone,
            value_date=_value_date(result.transaction_date),
            memo=memo,
            result_code=result.result_code,
            result_desc=result.result_desc,
            via=StkRequest.Via.CALLBACK,
        )
    except Conflict as error:
        _refusal_record(config=config, kind="stk_callback", error=error, key=key, raw=json_safe(result.raw))
        raise


def stk_paid(
    *,
    stk_id: int,
    amount: Decimal,
    key: str,
    receipt: str,
    phone: str,
    value_date: datetime.date,
    memo: dict[str, Any],
    result_code: int,
    result_desc: str,
    via: str,
) -> StkRequest:
    """Record an STK push as paid, once, whoever says so first: the callback (key mpesa:<receipt>) or the STK query
    (key mpesa:stk:<CheckoutRequestID>, no receipt). Under the push's row lock a push already paid makes no second
    payment; a later report only adds the receipt number the first one lacked."""
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().select_related("operator").get(pk=stk_id)
        if stk.status == StkRequest.Status.PAID:
            if receipt and not stk.receipt_number:
                _stk_receipt_learnt(stk, receipt=receipt, amount=amount)
            return stk
        if (orphan := _stk_orphan_payment(stk)) is not None:
            # Its callback came before Mita had saved the push's CheckoutRequestID, and was taken into suspense
            # as a push Mita did not know: that is this push's payment. Assigned to the account, never paid twice.
            orphan = payment_assign(payment=orphan, holder_reference=stk.account_reference, acting_user=None)
            payment, key, receipt = orphan, orphan.idempotency_key, receipt or orphan.provider_reference
        else:
            payment = _stk_payment_receive(
                stk, amount=amount, key=key, receipt=receipt, phone=phone, value_date=value_date, memo=memo
            )
        was = stk.status
        stk.status = StkRequest.Status.PAID
        stk.payment = payment
        stk.receipt_number = receipt
        stk.result_code = result_code
        stk.result_desc = result_desc[:255]
        stk.completed_at = timezone.now()
        stk.completed_via = via
        stk.last_error = ""
        stk.save(
            update_fields=[
                "status",
                "payment",
                "receipt_number",
                "result_code",
                "result_desc",
                "completed_at",
                "completed_via",
                "last_error",
            ]
        )
        audit_record(
            actor=None,
            action="mpesa.stk_paid",
            target=stk,
            operator=stk.operator,
            before={"status": was},
            after={"payment": payment.pk, "key": key, "receipt": receipt or None, "via": via, "amount": amount},
        )
    return stk


def _stk_payment_receive(
    stk: StkRequest,
    *,
    amount: Decimal,
    key: str,
    receipt: str,
    phone: str,
    value_date: datetime.date,
    memo: dict[str, Any],
) -> Payment:
    return payment_receive(
        operator=stk.operator,
        channel=Channel.MPESA,
        amount=amount,
        account_reference=stk.account_reference,
        idempotency_key=key,
        received_by=None,
        value_date=value_date,
        provider_reference=receipt or stk.checkout_request_id,
        payer_phone=phone if len(phone) <= 20 else "",
        memo=memo,
    )


def _unknown_push_reference(checkout_request_id: str) -> str:
    """The account reference of a paid STK result for a push Mita does not know (it goes to suspense)."""
    return f"STK {checkout_request_id}"


def _stk_orphan_payment(stk: StkRequest) -> Payment | None:
    """The payment taken into suspense from this push's own result, if it came before the push knew its id.

    Looked for among the operator's payments in suspense (a short list, on the operator-and-status index): an orphan
    a person has already assigned elsewhere is theirs to reconcile."""
    if not stk.checkout_request_id:
        return None
    return (
        Payment.objects.filter(
            operator_id=stk.operator_id,
            status=Payment.Status.IN_SUSPENSE,
            channel=Channel.MPESA,
            account_reference=_unknown_push_reference(stk.checkout_request_id),
        )
        .order_by("pk")
        .first()
    )


def _stk_receipt_learnt(stk: StkRequest, *, receipt: str, amount: Decimal) -> None:
    """The callback of a push the query already recorded tells its M-Pesa receipt number: keep it on the push and
    its payment. If that receipt was meanwhile recorded as another payment (a C2B confirmation of the same money
    came before this callback), say so loudly: the reconciliation team reverses one of them."""
    stk.receipt_number = receipt
    stk.save(update_fields=["receipt_number"])
    payment = stk.payment
    if payment is not None:
        payment.provider_reference = receipt
        payment.memo = {**payment.memo, "mpesa_receipt": receipt}
        payment.save(update_fields=["provider_reference", "memo"])
    twin = (
        Payment.objects.filter(operator_id=stk.operator_id, idempotency_key=f"mpesa:{receipt}")
        .exclude(pk=stk.payment_id)
        .first()
    )
    audit_record(
        actor=None,
        action="mpesa.stk_receipt_learnt",
        target=stk,
        operator=stk.operator_id,
        after={"receipt": receipt, "payment": stk.payment_id, "amount_reported": amount},
    )
    if amount != stk.amount:
        logger.warning("M-Pesa STK push %s was recorded at %s; its callback says %s", stk.pk, stk.amount, amount)
    if twin is not None:
        logger.error(
            "M-Pesa transaction %s is recorded twice: payment %s (STK push %s) and payment %s",
            receipt,
            stk.payment_id,
            stk.pk,
            twin.pk,
        )
        audit_record(
            actor=None,
            action="mpesa.recorded_twice",
            target=stk,
            operator=stk.operator_id,
            detail={"receipt": receipt, "payments": [stk.payment_id, twin.pk]},
        )


def _stk_payment_of_receipt(*, config: MpesaChannelConfig, receipt: str, key: str) -> Payment | None:
    """The payment of an STK push with this receipt number, when it was recorded under another key (the query's)."""
    stk = (
        StkRequest.objects.filter(operator=config.operator, receipt_number=receipt)
        .exclude(payment=None)
        .select_related("payment")
        .first()
    )
    if stk is None or stk.payment is None or stk.payment.idempotency_key == key:
        return None
    return stk.payment


def stk_failed(*, stk_id: int, result_code: int | None, result_desc: str, via: str) -> StkRequest:
    """Record that a push ended without payment (cancelled, timed out, refused...). A paid push stays paid, and a
    push given up as expired takes the real reason when it comes."""
    with transaction.atomic():
        stk = StkRequest.objects.select_for_update().get(pk=stk_id)
        if stk.status not in (StkRequest.Status.PENDING, StkRequest.Status.EXPIRED):
            return stk
        stk.status = StkRequest.Status.FAILED
        stk.result_code = result_code
        stk.result_desc = result_desc[:255]
        stk.completed_at = timezone.now()
        stk.completed_via = via
        stk.save(update_fields=["status", "result_code", "result_desc", "completed_at", "completed_via"])
        audit_record(
            actor=None,
            action="mpesa.stk_failed",
            target=stk,
            after={"result_code": result_code, "result_desc": result_desc, "via": via},
        )
    return stk
