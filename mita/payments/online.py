"""Online payments: payment links, hosted checkouts at a payment gateway, verification, webhooks and the poller.

A customer opens a payment link (/pay/<token>/, e.g. from a bill's SMS), says how much and from which phone, and is
sent to the gateway's checkout page. The checkout is recorded (pending) before the gateway hears of it. Whatever says
it may have been paid — the gateway's webhook, the customer coming back to the redirect URL, the poller, a cashier's
"check now" — leads to a verification with the gateway, and only the gateway's answer is acted on: the amount
recorded is the one the gateway verifies, never a webhook's or a URL's. The payment is made through payment_receive
with the key online:<gateway transaction id> under a row lock on the checkout, so any number of concurrent webhooks
make one payment (docs/online-payments.md).
"""

import dataclasses
import datetime
import enum
import logging
import secrets
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from mita.accounts.phones import normalize_phone
from mita.core.audit import audit_record
from mita.core.errors import DomainError, NotFound, PermissionDenied, Throttled
from mita.core.money import quantize
from mita.integrations.gateway.client import (
    TRANSACTION_ID,
    FlutterwaveClient,
    GatewayError,
    parse_webhook,
    verif_hash_matches,
)
from mita.ledger.selectors import holder_balance, holder_known
from mita.notifications.services import message_queue
from mita.payments.callbacks import address_check, allowed_networks, source_address
from mita.payments.models import Channel
from mita.payments.models_online import OnlineChannelConfig, OnlineCheckout, PaymentLink
from mita.payments.services import PaymentError, payment_receive

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "MITA_GATEWAY_BASE_URL": "http://127.0.0.1:8650",
    "MITA_GATEWAY_SECRET_KEY": "FLWSECK_TEST-fake-gateway-secret-key",
    "MITA_GATEWAY_TIMEOUT_SECONDS": 10.0,
    # The gateway wants an e-mail for each customer; Mita knows customers by phone: <digits>@<this domain>.
    "MITA_GATEWAY_EMAIL_DOMAIN": "customers.mita.invalid",
    # How long a payment link made for a bill stays usable.
    "MITA_ONLINE_LINK_DAYS": 60,
    # How long a checkout page takes payments (the gateway's session_duration, at most 1440).
    "MITA_ONLINE_SESSION_MINUTES": 60,
    # The poller leaves a checkout alone this long after it was made or last verified (the webhook's time to come).
    "MITA_ONLINE_POLL_AFTER_SECONDS": 10 * 60,
    # A checkout with nothing paid this long after it was made (longer than the session) is given up as expired.
    "MITA_ONLINE_EXPIRE_AFTER_SECONDS": 2 * 60 * 60,
    "MITA_ONLINE_POLL_BATCH": 200,
    # Checkouts one link may start in an hour: a leaked link cannot flood the gateway.
    "MITA_ONLINE_CHECKOUTS_PER_HOUR": 10,
    # Proxies in front of Mita that append to X-Forwarded-For; 0 takes the caller's address from the connection.
    "MITA_ONLINE_FORWARDED_FOR_HOPS": 0,
}
POLL_GIVE_UP_AFTER_ERRORS = 3
SECRET_HASH_MIN_LENGTH = 16
SMS_TEMPLATE = "payments.online_link"


def online_setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


# The gateway, as the domain sees it ------------------------------------------------------------------------------


class HostedCheckout(Protocol):
    """A checkout page made at the gateway for one payment."""

    @property
    def url(self) -> str: ...

    @property
    def gateway_id(self) -> str: ...


class VerifiedTransaction(Protocol):
    """A transaction as the gateway verifies it: the only word Mita acts on."""

    @property
    def transaction_id(self) -> str: ...

    @property
    def reference(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...

    @property
    def currency(self) -> str: ...

    @property
    def gateway_reference(self) -> str: ...

    @property
    def processor_response(self) -> str: ...

    @property
    def is_successful(self) -> bool: ...

    @property
    def is_failed(self) -> bool: ...


class CheckoutGateway(Protocol):
    """What online payments need of a hosted-checkout gateway. Failures raise
    mita.integrations.gateway.client.GatewayError, whose kind says whether trying again may help."""

    def checkout_create(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        customer_phone: str,
        redirect_url: str,
        title: str,
        description: str,
    ) -> HostedCheckout: ...

    def transaction_verify(self, transaction_id: str) -> VerifiedTransaction: ...

    def transaction_verify_by_reference(self, reference: str) -> VerifiedTransaction: ...


def online_gateway(*, config: OnlineChannelConfig | None) -> CheckoutGateway:
    """The gateway client for an operator: its own secret key if it has one, else the installation's."""
    return FlutterwaveClient(
        base_url=str(online_setting("MITA_GATEWAY_BASE_URL")),
        secret_key=(config.secret_key if config is not None else "") or str(online_setting("MITA_GATEWAY_SECRET_KEY")),
        timeout=float(online_setting("MITA_GATEWAY_TIMEOUT_SECONDS")),
        placeholder_email_domain=str(online_setting("MITA_GATEWAY_EMAIL_DOMAIN")),
        session_minutes=int(online_setting("MITA_ONLINE_SESSION_MINUTES")),
    )


def _gateway_for(operator_id: int) -> CheckoutGateway:
    return online_gateway(config=OnlineChannelConfig.objects.filter(operator_id=operator_id).first())


# Each operator's settings ----------------------------------------------------------------------------------------


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP


def _positive(amount: Any, field: str, currency: str) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or quantize(amount, currency) <= 0:
        raise PaymentError(
            _("An amount must be more than zero."), code="amount_invalid", fields={field: [_("More than zero.")]}
        )
    return quantize(amount, currency)


@transaction.atomic
def online_channel_configure(
    *,
    operator: Any,
    acting_user: Any,
    enabled: bool | None = None,
    secret_key: str | None = None,
    secret_hash: str | None = None,
    rotate_secret_hash: bool = False,
    rotate_callback_secret: bool = False,
    allowed_ips: Iterable[str] | None = None,
    allow_amount_change: bool | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | _Keep | None = KEEP,
) -> OnlineChannelConfig:
    """Set up (or change) an operator's online payments. Secrets are made here: the one in the webhook URL and, unless
    given, the secret hash the gateway's dashboard must send as verif-hash. Fields left as None (max_amount: KEEP)
    keep their value. A rotated secret changes the webhook URL (or hash): set it again in the gateway's dashboard."""
    config = OnlineChannelConfig.objects.select_for_update().filter(operator=operator).first()
    created = config is None
    if config is None:
        config = OnlineChannelConfig(operator=operator)
    callback_change = "kept"
    if created or rotate_callback_secret:
        config.callback_secret = secrets.token_urlsafe(32)
        callback_change = "made" if created else "rotated"
    hash_change = "kept"
    if secret_hash is not None and secret_hash.strip():
        secret_hash = secret_hash.strip()
        if not SECRET_HASH_MIN_LENGTH <= len(secret_hash) <= 128:
            raise PaymentError(
                _("The secret hash must be %(min)s to 128 characters long.") % {"min": SECRET_HASH_MIN_LENGTH},
                code="secret_hash_invalid",
                fields={"secret_hash": [_("%(min)s to 128 characters.") % {"min": SECRET_HASH_MIN_LENGTH}]},
            )
        config.secret_hash, hash_change = secret_hash, "set"
    elif created or rotate_secret_hash:
        config.secret_hash = secrets.token_urlsafe(24)
        hash_change = "made" if created else "rotated"
    if secret_key is not None:
        config.secret_key = secret_key.strip()
    if allowed_ips is not None:
        config.allowed_ips = allowed_networks(allowed_ips, example="52.31.139.0/24")
    if enabled is not None:
        config.enabled = enabled
    if allow_amount_change is not None:
        config.allow_amount_change = allow_amount_change
    if min_amount is not None:
        config.min_amount = _positive(min_amount, "min_amount", operator.currency)
    if max_amount is not KEEP:
        config.max_amount = None if max_amount is None else _positive(max_amount, "max_amount", operator.currency)
    if config.max_amount is not None and config.max_amount < config.min_amount:
        raise PaymentError(
            _("The largest payment cannot be smaller than the smallest."),
            code="amount_limits_invalid",
            fields={"max_amount": [_("At least the smallest payment.")]},
        )
    config.save()
    audit_record(
        actor=acting_user,
        action="online.configured",
        target=config,
        operator=operator,
        after={
            "enabled": config.enabled,
            "allowed_ips": config.allowed_ips,
            "allow_amount_change": config.allow_amount_change,
            "min_amount": config.min_amount,
            "max_amount": config.max_amount,
            "own_secret_key": bool(config.secret_key),
            "secret_hash": hash_change,
            "webhook_url_secret": callback_change,
        },
    )
    return config


def online_config(*, operator: Any) -> OnlineChannelConfig | None:
    return OnlineChannelConfig.objects.filter(operator=operator).first()


def online_enabled(*, operator: Any) -> bool:
    """Whether the operator takes online payments now."""
    return OnlineChannelConfig.objects.filter(operator=operator, enabled=True).exists()


def online_webhook_url(*, config: OnlineChannelConfig) -> str:
    """The operator's webhook URL, to set in the gateway's dashboard, on this installation's public address."""
    return str(settings.MITA_PUBLIC_URL).rstrip("/") + reverse(
        "online:webhook", args=[config.operator_id, config.callback_secret]
    )


def online_webhook_target(*, tx_ref: str) -> tuple[str, str] | None:
    """Where the gateway should send the webhook of a checkout, and its secret hash (the demo's fake gateway asks)."""
    checkout = OnlineCheckout.objects.filter(tx_ref=tx_ref).only("operator_id").first()
    config = OnlineChannelConfig.objects.filter(operator_id=checkout.operator_id).first() if checkout else None
    if config is None:
        return None
    return online_webhook_url(config=config), config.secret_hash


# Payment links ---------------------------------------------------------------------------------------------------


def payment_link_url(*, link: PaymentLink) -> str:
    return str(settings.MITA_PUBLIC_URL).rstrip("/") + reverse("online:pay", args=[link.token])


def _holder(operator: Any, holder: str) -> str:
    known = holder_known(operator=operator, reference=holder or "")
    if known is None:
        raise PaymentError(
            _("No customer account %(reference)s.") % {"reference": holder},
            code="account_unknown",
            fields={"holder": [_("No such customer account.")]},
        )
    return known


def _phone(operator: Any, phone: str, field: str) -> str:
    try:
        return normalize_phone(phone, region=operator.country_code or None)
    except ValidationError as error:
        raise PaymentError(error.messages[0], code="phone_invalid", fields={field: list(error.messages)}) from None


def payment_link_for(
    *, operator: Any, holder: str, amount: Decimal | None = None, phone: str = "", acting_user: Any = None
) -> PaymentLink | None:
    """The link a customer pays a customer account with (payment_link_url gives its address); None when the
    operator takes no online payments. Without an amount, a link of the account that stays usable at least half its
    life is given again, so that every bill's SMS does not make a new one."""
    config = OnlineChannelConfig.objects.filter(operator=operator, enabled=True).first()
    if config is None:
        return None
    holder = _holder(operator, holder)
    if amount is not None:
        amount = _positive(amount, "amount", operator.currency)
    now = timezone.now()
    life = datetime.timedelta(days=int(online_setting("MITA_ONLINE_LINK_DAYS")))
    if amount is None:
        reusable = (
            PaymentLink.objects.filter(
                operator=operator, holder=holder, amount__isnull=True, expires_at__gt=now + life / 2
            )
            .order_by("-expires_at")
            .first()
        )
        if reusable is not None:
            return reusable
    link = PaymentLink.objects.create(
        operator=operator,
        holder=holder,
        token=secrets.token_urlsafe(24),
        amount=amount,
        phone=phone,
        expires_at=now + life,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    audit_record(
        actor=acting_user,
        action="online.link_made",
        target=link,
        operator=operator,
        after={"holder": holder, "amount": amount, "expires_at": link.expires_at},
    )
    return link


@transaction.atomic
def payment_link_send(
    *, operator: Any, holder: str, phone: str, amount: Decimal | None = None, acting_user: Any
) -> tuple[PaymentLink, Any]:
    """Send a customer a payment link by SMS now (the account page's "Send a payment link"); returns the link and the
    outbox message."""
    phone = _phone(operator, phone, "phone")
    link = payment_link_for(operator=operator, holder=holder, amount=amount, phone=phone, acting_user=acting_user)
    if link is None:
        raise PaymentError(
            _("%(operator)s does not take online payments: an operator admin turns them on in the settings.")
            % {"operator": operator.name},
            code="online_disabled",
            status=409,
        )
    owed = max(holder_balance(operator=operator, holder=link.holder), Decimal("0"))
    due: Decimal = link.amount if link.amount is not None else owed
    message = message_queue(
        channel="sms",
        to=phone,
        template=SMS_TEMPLATE,
        context={
            "operator": operator.name,
            "account": link.holder,
            "amount": f"{quantize(due, operator.currency)} {operator.currency}",
            "link": payment_link_url(link=link),
        },
        operator=operator,
    )
    audit_record(
        actor=acting_user,
        action="online.link_sent",
        target=link,
        operator=operator,
        after={"phone": phone, "message": message.pk},
    )
    return link, message


def payment_link_get(*, token: str) -> PaymentLink:
    """The link with this token; NotFound for any other (the token is the only key, compared by the database)."""
    link = PaymentLink.objects.select_related("operator").filter(token=token or "").first() if token else None
    if link is None:
        raise NotFound(_("This payment link does not exist. Check the link in your message."), code="link_unknown")
    return link


@dataclasses.dataclass(frozen=True)
class LinkQuote:
    """What a payment link's page shows and allows now."""

    operator: Any
    holder: str
    currency: str
    owed: Decimal  # what the account owes now (never below zero)
    amount: Decimal  # what the customer pays unless they change it
    can_change: bool
    min_amount: Decimal
    max_amount: Decimal | None
    enabled: bool
    expired: bool


def link_quote(*, link: PaymentLink, now: datetime.datetime | None = None) -> LinkQuote:
    operator = link.operator
    config = online_config(operator=operator)
    owed = max(holder_balance(operator=operator, holder=link.holder), Decimal("0"))
    return LinkQuote(
        operator=operator,
        holder=link.holder,
        currency=operator.currency,
        owed=owed,
        amount=link.amount if link.amount is not None else owed,
        can_change=bool(config and config.allow_amount_change),
        min_amount=config.min_amount if config else Decimal("1"),
        max_amount=config.max_amount if config else None,
        enabled=bool(config and config.enabled),
        expired=link.expires_at <= (now or timezone.now()),
    )


# Checkouts -------------------------------------------------------------------------------------------------------


def _amount_to_pay(quote: LinkQuote, amount: Decimal | None) -> Decimal:
    """The amount asked: the link's (or what is owed) unless the customer may change it and did, within limits."""
    if amount is None or not quote.can_change:
        chosen = quote.amount
        if chosen <= 0:
            raise PaymentError(
                _("This account owes nothing now."),
                code="nothing_owed",
                fields={"amount": [_("Nothing to pay.")]} if quote.can_change else {},
            )
        return quantize(chosen, quote.currency)
    amount = _positive(amount, "amount", quote.currency)
    if amount == quantize(quote.amount, quote.currency):
        return amount  # what the link asks is always payable
    if amount < quote.min_amount:
        raise PaymentError(
            _("The smallest payment is %(amount)s %(currency)s.")
            % {"amount": quantize(quote.min_amount, quote.currency), "currency": quote.currency},
            code="amount_too_small",
            fields={"amount": [_("At least %(amount)s.") % {"amount": quantize(quote.min_amount, quote.currency)}]},
        )
    if quote.max_amount is not None and amount > quote.max_amount:
        raise PaymentError(
            _("The largest payment is %(amount)s %(currency)s.")
            % {"amount": quantize(quote.max_amount, quote.currency), "currency": quote.currency},
            code="amount_too_large",
            fields={"amount": [_("At most %(amount)s.") % {"amount": quantize(quote.max_amount, quote.currency)}]},
        )
    return amount


def _tx_ref(operator: Any) -> str:
    prefix = "".join(character for character in str(operator.prefix) if character.isalnum()) or "MITA"
    return f"{prefix}-{uuid.uuid4().hex}"


def checkout_start(
    *, link: PaymentLink, amount: Decimal | None, payer_phone: str, gateway: CheckoutGateway | None = None
) -> OnlineCheckout:
    """Start paying a link: record the checkout, then have the gateway make its page (OnlineCheckout.checkout_url).

    A refusal by the gateway fails the checkout at once; a gateway out of reach leaves it pending (it may exist
    there) for the poller, and both raise PaymentError so that the customer is told and may try again."""
    operator = link.operator
    quote = link_quote(link=link)
    if not quote.enabled:
        raise PaymentError(
            _("%(operator)s does not take online payments at the moment.") % {"operator": operator.name},
            code="online_disabled",
            status=409,
        )
    if quote.expired:
        raise PaymentError(
            _("This payment link has expired. Ask %(operator)s for a new one.") % {"operator": operator.name},
            code="link_expired",
            status=410,
        )
    amount = _amount_to_pay(quote, amount)
    phone = _phone(operator, payer_phone, "payer_phone")
    recent = OnlineCheckout.objects.filter(
        link=link, created_at__gte=timezone.now() - datetime.timedelta(hours=1)
    ).count()
    if recent >= int(online_setting("MITA_ONLINE_CHECKOUTS_PER_HOUR")):
        raise Throttled(_("Too many payment attempts with this link. Try again in an hour."), code="too_many_checkouts")
    with transaction.atomic():
        checkout = OnlineCheckout.objects.create(
            operator=operator,
            link=link,
            holder=link.holder,
            tx_ref=_tx_ref(operator),
            amount=amount,
            currency=operator.currency,
            payer_phone=phone,
        )
        audit_record(
            actor=None,
            action="online.checkout_started",
            target=checkout,
            operator=operator,
            after={"tx_ref": checkout.tx_ref, "holder": link.holder, "amount": amount, "phone": phone},
        )
    gateway = gateway or _gateway_for(operator.pk)
    try:
        hosted = gateway.checkout_create(
            reference=checkout.tx_ref,
            amount=amount,
            currency=checkout.currency,
            customer_phone=phone,
            redirect_url=str(settings.MITA_PUBLIC_URL).rstrip("/") + reverse("online:return", args=[link.token]),
            title=operator.name,
            description=_("Account %(account)s") % {"account": link.holder},
        )
    except GatewayError as error:
        if error.kind in ("rejected", "refused"):
            _finish(checkout.pk, status=OnlineCheckout.Status.FAILED, reason=str(error))
        else:
            # The checkout may exist at the gateway (the answer was lost): the poller asks, and expires it if not.
            logger.warning("online checkout %s may not have reached the gateway: %s", checkout.tx_ref, error)
            OnlineCheckout.objects.filter(pk=checkout.pk).update(last_error=str(error)[:255])
        raise PaymentError(
            _("The payment service is not available just now. Try again in a few minutes, or pay another way."),
            code=f"gateway_{error.kind}",
            status=502,
        ) from error
    OnlineCheckout.objects.filter(pk=checkout.pk).update(
        checkout_url=hosted.url[:500], gateway_checkout_id=hosted.gateway_id[:100]
    )
    checkout.checkout_url, checkout.gateway_checkout_id = hosted.url[:500], hosted.gateway_id[:100]
    return checkout


def _finish(checkout_id: int, *, status: str, reason: str = "") -> OnlineCheckout:
    with transaction.atomic():
        checkout = OnlineCheckout.objects.select_for_update().select_related("operator").get(pk=checkout_id)
        if checkout.status != OnlineCheckout.Status.PENDING:
            return checkout
        checkout.status = status
        checkout.reason = reason[:255]
        checkout.completed_at = timezone.now()
        checkout.save(update_fields=["status", "reason", "completed_at"])
        audit_record(
            actor=None, action=f"online.{status}", target=checkout, operator=checkout.operator, after={"reason": reason}
        )
    return checkout


# Verification ----------------------------------------------------------------------------------------------------


def _age(checkout: OnlineCheckout, now: datetime.datetime) -> float:
    return (now - checkout.created_at).total_seconds()


def online_confirm(
    *, checkout: OnlineCheckout, transaction_id: str = "", said: str = "", gateway: CheckoutGateway | None = None
) -> OnlineCheckout:
    """Ask the gateway how a checkout stands and act on that answer alone: a payment if it was paid, failed with the
    processor's words, cancelled or expired when the gateway has nothing; otherwise it stays pending. Safe to call any
    number of times at once.

    transaction_id is a hint (from a redirect) of which transaction to verify; one of another checkout is ignored.
    said is what the redirect claimed ("cancelled" ends a checkout the gateway has no transaction for)."""
    transaction_id = transaction_id.strip() if TRANSACTION_ID.fullmatch(transaction_id.strip()) else ""
    if checkout.is_settled and transaction_id in ("", checkout.transaction_id):
        return checkout
    gateway = gateway or _gateway_for(checkout.operator_id)
    try:
        verified = gateway.transaction_verify(transaction_id) if transaction_id else None
        if verified is not None and verified.reference != checkout.tx_ref:
            logger.warning(
                "online checkout %s: transaction %s is for %s; verifying by reference instead",
                checkout.tx_ref,
                transaction_id,
                verified.reference,
            )
            verified = None
        if verified is None:
            verified = gateway.transaction_verify_by_reference(checkout.tx_ref)
    except GatewayError as error:
        return _verify_failed(checkout, error, said=said)
    return _apply(checkout.pk, verified)


def _verify_failed(checkout: OnlineCheckout, error: GatewayError, *, said: str = "") -> OnlineCheckout:
    now = timezone.now()
    if error.kind == "not_found":
        # The gateway has no transaction on this checkout: the customer has not paid (yet).
        if checkout.status != OnlineCheckout.Status.PENDING:
            return checkout
        if said == "cancelled":
            return _finish(checkout.pk, status=OnlineCheckout.Status.CANCELLED, reason=_("The customer cancelled."))
        if _age(checkout, now) > float(online_setting("MITA_ONLINE_EXPIRE_AFTER_SECONDS")):
            return _finish(checkout.pk, status=OnlineCheckout.Status.EXPIRED, reason=_("Nothing was paid in time."))
        OnlineCheckout.objects.filter(pk=checkout.pk).update(checked_at=now, checks=F("checks") + 1, last_error="")
    else:
        logger.info("could not verify online checkout %s: %s", checkout.tx_ref, error)
        OnlineCheckout.objects.filter(pk=checkout.pk).update(
            checked_at=now, checks=F("checks") + 1, last_error=str(error)[:255]
        )
    checkout.refresh_from_db()
    return checkout


def _apply(checkout_id: int, verified: VerifiedTransaction) -> OnlineCheckout:
    now = timezone.now()
    with transaction.atomic():
        # The row lock makes concurrent confirmations of one checkout take turns: the first records the payment, the
        # rest find it settled and leave it.
        checkout = OnlineCheckout.objects.select_for_update().select_related("operator").get(pk=checkout_id)
        before = checkout.status
        checkout.checked_at = now
        checkout.checks += 1
        checkout.last_error = ""
        fields = ["checked_at", "checks", "last_error"]
        if verified.is_successful and checkout.is_settled:
            if verified.transaction_id != checkout.transaction_id:
                _record_another(checkout, verified)
        elif verified.is_successful:
            _record_payment(checkout, verified)
            fields += ["status", "transaction_id", "gateway_reference", "confirmed_amount", "payment", "reason"]
            fields += ["completed_at"]
        elif checkout.status == OnlineCheckout.Status.PENDING and verified.is_failed:
            checkout.status = OnlineCheckout.Status.FAILED
            checkout.transaction_id = verified.transaction_id[:64]
            checkout.reason = (verified.processor_response or verified.status)[:255]
            checkout.completed_at = now
            fields += ["status", "transaction_id", "reason", "completed_at"]
        elif checkout.status == OnlineCheckout.Status.PENDING and _age(checkout, now) > float(
            online_setting("MITA_ONLINE_EXPIRE_AFTER_SECONDS")
        ):
            checkout.status = OnlineCheckout.Status.EXPIRED
            checkout.reason = _("The gateway still had the payment pending.")
            checkout.completed_at = now
            fields += ["status", "reason", "completed_at"]
        checkout.save(update_fields=fields)
        if checkout.status != before:
            audit_record(
                actor=None,
                action=f"online.{checkout.status}",
                target=checkout,
                operator=checkout.operator,
                after={
                    "gateway_status": verified.status,
                    "amount": verified.amount,
                    "currency": verified.currency,
                    "transaction": verified.transaction_id,
                    "reason": checkout.reason,
                    "payment": checkout.payment_id,
                },
            )
    return checkout


def _receive(checkout: OnlineCheckout, verified: VerifiedTransaction, amount: Decimal) -> Any:
    return payment_receive(
        operator=checkout.operator,
        channel=Channel.ONLINE,
        amount=amount,
        account_reference=checkout.holder,
        idempotency_key=f"online:{verified.transaction_id}",
        received_by=None,
        provider_reference=verified.transaction_id,
        payer_phone=checkout.payer_phone,
        memo={
            "tx_ref": checkout.tx_ref,
            "gateway_reference": verified.gateway_reference,
            "requested_amount": str(checkout.amount),
        },
    )


def _record_payment(checkout: OnlineCheckout, verified: VerifiedTransaction) -> None:
    """Take the payment the gateway verified: its amount, on the checkout's account; one that cannot be taken waits
    for review."""
    operator = checkout.operator
    checkout.transaction_id = verified.transaction_id[:64]
    checkout.gateway_reference = verified.gateway_reference[:100]
    checkout.completed_at = timezone.now()
    if verified.currency != operator.currency:
        checkout.status = OnlineCheckout.Status.REVIEW
        checkout.confirmed_amount = verified.amount
        checkout.reason = _("The gateway verified %(amount)s %(currency)s; the operator bills in %(ours)s.") % {
            "amount": verified.amount,
            "currency": verified.currency,
            "ours": operator.currency,
        }
        return
    amount = quantize(verified.amount, operator.currency)
    checkout.confirmed_amount = amount
    try:
        with transaction.atomic():
            payment = _receive(checkout, verified, amount)
    except DomainError as error:
        # The gateway has the customer's money: keep the checkout for a person to look at rather than drop it.
        logger.error("online checkout %s verified paid but not recorded: %s", checkout.tx_ref, error)
        checkout.status = OnlineCheckout.Status.REVIEW
        checkout.reason = f"{error.code}: {error.message}"[:255]
        return
    checkout.payment = payment
    checkout.status = OnlineCheckout.Status.SUCCESSFUL
    checkout.reason = (
        ""
        if amount == checkout.amount
        else _("The gateway collected %(paid)s, not the %(asked)s asked.") % {"paid": amount, "asked": checkout.amount}
    )


def _record_another(checkout: OnlineCheckout, verified: VerifiedTransaction) -> None:
    """The customer paid a second time on a paid checkout: that money is taken too (its own key), and logged."""
    operator = checkout.operator
    if verified.currency != operator.currency:
        logger.error("online checkout %s paid again in %s: left for review", checkout.tx_ref, verified.currency)
        payment_id = None
    else:
        try:
            with transaction.atomic():
                payment_id = _receive(checkout, verified, quantize(verified.amount, operator.currency)).pk
        except DomainError as error:
            logger.error("online checkout %s paid again but not recorded: %s", checkout.tx_ref, error)
            payment_id = None
    audit_record(
        actor=None,
        action="online.paid_again",
        target=checkout,
        operator=operator,
        after={"transaction": verified.transaction_id, "amount": verified.amount, "payment": payment_id},
    )


# The webhook, the customer's return, and the poller -------------------------------------------------------------


def webhook_source_ip(meta: dict[str, Any]) -> str:
    return source_address(meta, forwarded_for_hops=int(online_setting("MITA_ONLINE_FORWARDED_FOR_HOPS")))


def online_webhook_authorise(
    *, operator_id: int, secret: str, verif_hash: str | None, source_ip: str
) -> OnlineChannelConfig:
    """The operator's settings if the URL's secret is theirs (else 404), the caller's address is allowed (else 403)
    and the verif-hash header is their secret hash (else 403)."""
    config = OnlineChannelConfig.objects.select_related("operator").filter(operator_id=operator_id).first()
    # Compare even when there is no config, so that the answer takes as long either way.
    expected = config.callback_secret if config is not None else secrets.token_urlsafe(32)
    if not constant_time_compare(secret, expected) or config is None or not config.enabled:
        raise NotFound(_("No such webhook."), code="webhook_unknown")
    address_check(
        allowed_ips=config.allowed_ips, source_ip=source_ip, provider="payment gateway", operator_id=operator_id
    )
    if not verif_hash_matches(verif_hash, config.secret_hash):
        logger.warning("online webhook for operator %s refused: wrong verif-hash", operator_id)
        raise PermissionDenied(_("The verif-hash header is not this operator's secret hash."), code="verif_hash_wrong")
    return config


def online_webhook_receive(
    *, config: OnlineChannelConfig, body: Any, gateway: CheckoutGateway | None = None
) -> OnlineCheckout | None:
    """A webhook says a transaction happened: verify it with the gateway and act on the verification, on the checkout
    the verified transaction belongs to. Nothing in the body but the ids it names is used. Raises ValueError for a
    body that names no transaction and no checkout."""
    event = parse_webhook(body)
    operator = config.operator
    gateway = gateway or online_gateway(config=config)
    hinted = (
        OnlineCheckout.objects.filter(operator=operator, tx_ref=event.reference).first() if event.reference else None
    )
    if not event.transaction_id:
        return online_confirm(checkout=hinted, gateway=gateway) if hinted else None
    try:
        verified = gateway.transaction_verify(event.transaction_id)
    except GatewayError as error:
        # Not verified now: the named checkout (if ours) is noted, and the poller verifies it by its reference.
        logger.info("online webhook for transaction %s not verified: %s", event.transaction_id, error)
        if hinted is not None and not hinted.is_settled:
            OnlineCheckout.objects.filter(pk=hinted.pk).update(last_error=str(error)[:255])
        return hinted
    checkout = OnlineCheckout.objects.filter(operator=operator, tx_ref=verified.reference).first()
    if checkout is None:
        logger.warning(
            "online webhook for operator %s: transaction %s is for %s, no checkout of theirs",
            operator.pk,
            verified.transaction_id,
            verified.reference,
        )
        return None
    return _apply(checkout.pk, verified)


def online_return(*, link: PaymentLink, tx_ref: str, transaction_id: str = "", said: str = "") -> OnlineCheckout:
    """The customer is back from the gateway: verify the checkout named by the redirect (one of this link's)."""
    checkout = link.checkouts.select_related("operator", "payment__receipt").filter(tx_ref=tx_ref or "").first()
    if checkout is None:
        raise NotFound(_("No such payment on this link."), code="checkout_unknown")
    checkout = online_confirm(checkout=checkout, transaction_id=transaction_id or "", said=said or "")
    return OnlineCheckout.objects.select_related("payment__receipt").get(pk=checkout.pk)


@dataclasses.dataclass
class PollResult:
    checked: int = 0
    successful: int = 0
    failed: int = 0
    cancelled: int = 0
    expired: int = 0
    review: int = 0
    pending: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def online_poll(*, now: datetime.datetime | None = None, gateway: CheckoutGateway | None = None) -> PollResult:
    """Verify the pending checkouts not verified lately, least recently verified first: a lost webhook, or a customer
    who never came back to the redirect URL, costs minutes, not a payment."""
    now = now or timezone.now()
    quiet = datetime.timedelta(seconds=float(online_setting("MITA_ONLINE_POLL_AFTER_SECONDS")))
    due = (
        OnlineCheckout.objects.filter(status=OnlineCheckout.Status.PENDING, created_at__lte=now - quiet)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=now - quiet))
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[: int(online_setting("MITA_ONLINE_POLL_BATCH"))]
    )
    result = PollResult()
    errors_in_a_row = 0
    for checkout_id in list(due):
        if errors_in_a_row >= POLL_GIVE_UP_AFTER_ERRORS:
            # The gateway is down or refuses us: the rest would each wait for the timeout; the next run tries again.
            logger.warning("online poll stopped after %s errors in a row", errors_in_a_row)
            break
        result.checked += 1
        try:
            checkout = online_confirm(checkout=OnlineCheckout.objects.get(pk=checkout_id), gateway=gateway)
        except Exception:  # one checkout's trouble must not stop the others; it is logged and tried next time
            logger.exception("could not verify online checkout %s", checkout_id)
            result.errors += 1
            errors_in_a_row += 1
            continue
        failed_to_ask = checkout.status == OnlineCheckout.Status.PENDING and bool(checkout.last_error)
        result.errors += failed_to_ask
        errors_in_a_row = errors_in_a_row + 1 if failed_to_ask else 0
        setattr(result, checkout.status, getattr(result, checkout.status) + 1)
    if result.checked:
        logger.info("online poll: %s", result.as_dict())
    return result
