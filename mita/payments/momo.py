"""MTN MoMo collections: request-to-pay, confirmation by MTN's own status, the callback as a mere hint, the poller.

A request is recorded (pending) before MTN hears of it, so neither a fast callback nor a crash loses it. Whatever
says a request may have ended (a callback, the poller, a cashier's "check now") leads to momo_confirm, which asks
MTN for the request's status and acts only on that answer: the amount recorded is the one MTN confirms, never a
callback's. The payment is made through payment_receive with the key momo:<MTN transaction id>, under a row lock on
the request, so any number of concurrent confirmations make one payment.
"""

import dataclasses
import datetime
import logging
import secrets
import threading
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from mita.accounts.phones import normalize_phone
from mita.core.audit import audit_record
from mita.core.errors import DomainError, NotFound
from mita.core.money import quantize
from mita.integrations.momo.client import MomoClient, MomoError, MomoStatus, new_reference_id
from mita.ledger.selectors import holder_known
from mita.payments.callbacks import address_check, allowed_networks, source_address
from mita.payments.models import Channel
from mita.payments.models_momo import MomoChannelConfig, MomoRequest
from mita.payments.services import PaymentError, payment_receive

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "MITA_MOMO_BASE_URL": "http://127.0.0.1:8630",
    "MITA_MOMO_SUBSCRIPTION_KEY": "fake-momo-subscription-key",
    "MITA_MOMO_API_USER": "fake-momo-api-user",
    "MITA_MOMO_API_KEY": "fake-momo-api-key",
    "MITA_MOMO_TARGET_ENVIRONMENT": "sandbox",
    "MITA_MOMO_TIMEOUT_SECONDS": 10.0,
    # The poller leaves a request alone this long after it was made or last checked (the callback's time to come).
    "MITA_MOMO_POLL_AFTER_SECONDS": 30,
    # A request MTN still calls pending after this long is given up as expired.
    "MITA_MOMO_EXPIRE_AFTER_SECONDS": 24 * 60 * 60,
    # A request MTN does not know after this long never reached it (the send failed on the way).
    "MITA_MOMO_NOT_FOUND_AFTER_SECONDS": 5 * 60,
    "MITA_MOMO_POLL_BATCH": 500,
    # Proxies in front of Mita that append to X-Forwarded-For; 0 takes the caller's address from the connection.
    "MITA_MOMO_FORWARDED_FOR_HOPS": 0,
}
# The poller stops its run after this many requests in a row could not be confirmed (MTN down or refusing us).
POLL_GIVE_UP_AFTER_ERRORS = 3
# Callers sending a callback without a reference id: at most this many pending requests of its externalId are checked.
EXTERNAL_ID_MATCH_LIMIT = 10


def momo_setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


_clients: dict[tuple[Any, ...], MomoClient] = {}
_clients_lock = threading.Lock()


def momo_client() -> MomoClient:
    """The client for the configured MoMo API; one per configuration, so that its access token is reused."""
    config = tuple(
        momo_setting(name)
        for name in (
            "MITA_MOMO_BASE_URL",
            "MITA_MOMO_SUBSCRIPTION_KEY",
            "MITA_MOMO_API_USER",
            "MITA_MOMO_API_KEY",
            "MITA_MOMO_TARGET_ENVIRONMENT",
            "MITA_MOMO_TIMEOUT_SECONDS",
        )
    )
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            base_url, subscription_key, api_user, api_key, environment, timeout = config
            client = _clients[config] = MomoClient(
                base_url=base_url,
                subscription_key=subscription_key,
                api_user=api_user,
                api_key=api_key,
                target_environment=environment,
                timeout=float(timeout),
            )
        return client


# The callback's settings -------------------------------------------------------------------------------------


@transaction.atomic
def momo_channel_configure(
    *,
    operator: Any,
    acting_user: Any,
    allowed_ips: Iterable[str] | None = None,
    enabled: bool | None = None,
    rotate_secret: bool = False,
) -> MomoChannelConfig:
    """Set up (or change) an operator's MoMo callback: a secret made here, the addresses MTN may call from."""
    config, created = MomoChannelConfig.objects.select_for_update().get_or_create(
        operator=operator, defaults={"callback_secret": secrets.token_urlsafe(32)}
    )
    if rotate_secret and not created:
        config.callback_secret = secrets.token_urlsafe(32)
    if allowed_ips is not None:
        config.allowed_ips = allowed_networks(allowed_ips, example="196.12.0.0/16")
    if enabled is not None:
        config.enabled = enabled
    config.save()
    audit_record(
        actor=acting_user,
        action="momo.configured",
        target=config,
        operator=operator,
        after={
            "allowed_ips": config.allowed_ips,
            "enabled": config.enabled,
            "secret": "made" if created else ("rotated" if rotate_secret else "kept"),
        },
    )
    return config


def momo_callback_path(*, operator: Any, secret: str) -> str:
    return reverse("momo:callback", args=[operator.pk, secret])


def momo_callback_url(*, momo: MomoRequest) -> str:
    """Where MTN sends this request's callback, or "" when the operator has none (the poller finds the outcome).

    MTN's callback does not carry the reference id, so it travels in the URL.
    """
    config = MomoChannelConfig.objects.filter(operator_id=momo.operator_id, enabled=True).first()
    if config is None:
        return ""
    try:
        path = momo_callback_path(operator=momo.operator, secret=config.callback_secret)
    except NoReverseMatch:
        logger.warning("the MoMo callback URL is not wired (mita.payments.views_momo): requests go without one")
        return ""
    return f"{settings.MITA_PUBLIC_URL}{path}?referenceId={momo.reference_id}"


def callback_source_ip(meta: dict[str, Any]) -> str:
    return source_address(meta, forwarded_for_hops=int(momo_setting("MITA_MOMO_FORWARDED_FOR_HOPS")))


def momo_callback_authorise(*, operator_id: int, secret: str, source_ip: str) -> MomoChannelConfig:
    """The operator's callback settings if the URL's secret is theirs (else 404) and the caller's address is
    allowed (else 403)."""
    config = MomoChannelConfig.objects.select_related("operator").filter(operator_id=operator_id).first()
    # Compare even when there is no config, so that the answer takes as long either way.
    expected = config.callback_secret if config is not None else secrets.token_urlsafe(32)
    if not constant_time_compare(secret, expected) or config is None or not config.enabled:
        raise NotFound(_("No such callback."), code="callback_unknown")
    address_check(allowed_ips=config.allowed_ips, source_ip=source_ip, provider="MoMo", operator_id=operator_id)
    return config


# Request to pay ----------------------------------------------------------------------------------------------


def _msisdn(payer_phone: str) -> str:
    try:
        return normalize_phone(payer_phone).removeprefix("+")
    except ValidationError as error:
        raise PaymentError(
            error.messages[0], code="phone_invalid", fields={"payer_phone": list(error.messages)}
        ) from None


def request_to_pay(
    *,
    operator: Any,
    account_reference: str,
    amount: Decimal,
    payer_phone: str,
    acting_user: Any,
    client: MomoClient | None = None,
) -> MomoRequest:
    """Ask a payer to approve, on their phone, a payment to a customer account; returns the request as it stands.

    The request is pending when MTN accepted it, or when MTN could not be reached (the poller finds out whether the
    request arrived); failed when MTN refused it.
    """
    account_reference = (account_reference or "").strip()
    if not account_reference:
        raise PaymentError(
            _("Say which customer account is paying."),
            code="account_reference_required",
            fields={"account_reference": [_("Required.")]},
        )
    holder = holder_known(operator=operator, reference=account_reference)
    if holder is None:
        # A typo here would make the payer pay into suspense: better to ask again before their phone rings.
        raise PaymentError(
            _("No customer account %(reference)s.") % {"reference": account_reference},
            code="account_unknown",
            fields={"account_reference": [_("No such customer account.")]},
        )
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise PaymentError(
            _("A payment must be a positive amount."), code="amount_invalid", fields={"amount": [_("More than zero.")]}
        )
    amount = quantize(amount, operator.currency)
    if amount <= 0:
        raise PaymentError(
            _("A payment must be a positive amount."), code="amount_invalid", fields={"amount": [_("More than zero.")]}
        )
    msisdn = _msisdn(payer_phone)
    with transaction.atomic():
        momo = MomoRequest.objects.create(
            operator=operator,
            reference_id=uuid.UUID(new_reference_id()),
            external_id=holder,
            amount=amount,
            currency=operator.currency,
            payer_phone="+" + msisdn,
            requested_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        audit_record(
            actor=acting_user,
            action="momo.requested",
            target=momo,
            operator=operator,
            after={"reference_id": momo.reference_id, "account": holder, "amount": amount, "phone": momo.payer_phone},
        )
    client = client or momo_client()
    try:
        client.request_to_pay(
            reference_id=str(momo.reference_id),
            amount=amount,
            currency=momo.currency,
            external_id=holder,
            payer_msisdn=msisdn,
            payer_message=_("Account %(account)s") % {"account": holder},
            payee_note=holder,
            callback_url=momo_callback_url(momo=momo),
        )
    except MomoError as error:
        if error.kind in ("rejected", "refused"):
            # MTN never took the request, so nothing can be paid on it.
            return _finish(
                momo.pk,
                status=MomoRequest.Status.FAILED,
                reason_code=error.code or ("REFUSED" if error.kind == "refused" else "REJECTED"),
                reason_message=str(error),
            )
        # Unreachable, an unreadable answer, or a duplicate id: MTN may hold the request; the poller will ask.
        logger.warning("MoMo request %s may not have reached MTN: %s", momo.reference_id, error)
        MomoRequest.objects.filter(pk=momo.pk).update(last_error=str(error)[:255])
        momo.last_error = str(error)[:255]
    return momo


def _finish(momo_id: int, *, status: str, reason_code: str = "", reason_message: str = "") -> MomoRequest:
    with transaction.atomic():
        momo = MomoRequest.objects.select_for_update().get(pk=momo_id)
        if momo.is_final:
            return momo
        momo.status = status
        momo.reason_code = reason_code[:64]
        momo.reason_message = reason_message[:255]
        momo.completed_at = timezone.now()
        momo.save(update_fields=["status", "reason_code", "reason_message", "completed_at"])
        audit_record(
            actor=None,
            action=f"momo.{status}",
            target=momo,
            operator=momo.operator,
            after={"reason": reason_code, "message": reason_message[:255]},
        )
    return momo


# Confirmation ------------------------------------------------------------------------------------------------


def momo_confirm(*, reference_id: str | uuid.UUID, client: MomoClient | None = None) -> MomoRequest:
    """Ask MTN how a request stands and act on that answer alone: a payment if it was paid, failed with MTN's
    reason, expired if still pending too long; otherwise it stays pending. Safe to call any number of times at once.

    If MTN cannot be asked, the request stays pending with the error noted, for the poller to try again.
    """
    try:
        momo = MomoRequest.objects.get(reference_id=reference_id)
    except (MomoRequest.DoesNotExist, ValidationError, ValueError):
        raise NotFound(_("No MoMo request %(reference)s.") % {"reference": reference_id}, code="momo_unknown") from None
    if momo.is_final:
        return momo
    client = client or momo_client()
    try:
        status = client.request_to_pay_status(str(momo.reference_id))
    except MomoError as error:
        return _confirm_failed(momo, error)
    return _apply(momo.pk, status)


def _age(momo: MomoRequest, now: datetime.datetime) -> float:
    return (now - momo.created_at).total_seconds()


def _confirm_failed(momo: MomoRequest, error: MomoError) -> MomoRequest:
    now = timezone.now()
    if error.kind == "not_found" and _age(momo, now) > float(momo_setting("MITA_MOMO_NOT_FOUND_AFTER_SECONDS")):
        return _finish(
            momo.pk,
            status=MomoRequest.Status.FAILED,
            reason_code="NOT_RECEIVED",
            reason_message=_("MTN has no such request: it never arrived."),
        )
    logger.info("could not confirm MoMo request %s: %s", momo.reference_id, error)
    MomoRequest.objects.filter(pk=momo.pk, status=MomoRequest.Status.PENDING).update(
        checked_at=now, checks=F("checks") + 1, last_error=str(error)[:255]
    )
    momo.refresh_from_db()
    return momo


def _apply(momo_id: int, status: MomoStatus) -> MomoRequest:
    now = timezone.now()
    with transaction.atomic():
        # The row lock makes concurrent confirmations of one request take turns: the first records, the rest see
        # a final request and leave it.
        momo = MomoRequest.objects.select_for_update().select_related("operator").get(pk=momo_id)
        if momo.is_final:
            return momo
        momo.checked_at = now
        momo.checks += 1
        momo.last_error = ""
        fields = ["checked_at", "checks", "last_error"]
        if status.is_successful:
            _record_payment(momo, status)
            fields += ["status", "financial_transaction_id", "confirmed_amount", "payment", "reason_code"]
            fields += ["reason_message", "completed_at"]
        elif status.is_failed:
            momo.status = MomoRequest.Status.FAILED
            momo.reason_code = (status.reason_code or status.status)[:64]
            momo.reason_message = status.reason_message[:255]
            momo.completed_at = now
            fields += ["status", "reason_code", "reason_message", "completed_at"]
        elif _age(momo, now) > float(momo_setting("MITA_MOMO_EXPIRE_AFTER_SECONDS")):
            momo.status = MomoRequest.Status.EXPIRED
            momo.reason_code = "EXPIRED"
            momo.reason_message = _("The payer did not answer in time.")
            momo.completed_at = now
            fields += ["status", "reason_code", "reason_message", "completed_at"]
        momo.save(update_fields=fields)
        if momo.is_final:
            audit_record(
                actor=None,
                action=f"momo.{momo.status}",
                target=momo,
                operator=momo.operator,
                after={
                    "mtn_status": status.status,
                    "amount": status.amount,
                    "transaction": status.financial_transaction_id,
                    "reason": momo.reason_code,
                    "payment": momo.payment_id,
                },
            )
    return momo


def _record_payment(momo: MomoRequest, status: MomoStatus) -> None:
    """Take the payment MTN confirmed: its amount, its externalId; a payment that cannot be taken waits for review."""
    operator = momo.operator
    momo.financial_transaction_id = status.financial_transaction_id[:64]
    momo.completed_at = timezone.now()
    if status.currency != operator.currency:
        momo.status = MomoRequest.Status.REVIEW
        momo.reason_code = "CURRENCY_MISMATCH"
        momo.reason_message = _("MTN confirmed %(amount)s %(currency)s; the operator bills in %(ours)s.") % {
            "amount": status.amount,
            "currency": status.currency,
            "ours": operator.currency,
        }
        momo.confirmed_amount = status.amount
        return
    amount = quantize(status.amount, operator.currency)
    momo.confirmed_amount = amount
    try:
        with transaction.atomic():
            payment = payment_receive(
                operator=operator,
                channel=Channel.MOMO,
                amount=amount,
                account_reference=status.external_id or momo.external_id,
                idempotency_key=f"momo:{status.financial_transaction_id or momo.reference_id}",
                received_by=None,
                provider_reference=status.financial_transaction_id,
                payer_phone=f"+{status.payer_party_id}" if status.payer_party_id.isdigit() else momo.payer_phone,
                memo={
                    "momo_reference_id": str(momo.reference_id),
                    "requested_amount": str(momo.amount),
                    "requested_for": momo.external_id,
                },
            )
    except DomainError as error:
        # MTN has the payer's money: keep the request for a person to look at rather than drop it.
        logger.error("MoMo payment %s confirmed but not recorded: %s", momo.reference_id, error)
        momo.status = MomoRequest.Status.REVIEW
        momo.reason_code = error.code[:64]
        momo.reason_message = str(error.message)[:255]
        return
    momo.payment = payment
    momo.status = MomoRequest.Status.SUCCESSFUL
    momo.reason_code = ""
    momo.reason_message = ""


# The callback and the poller ---------------------------------------------------------------------------------


def _uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value).strip()))
        except ValueError:
            continue
    return found


def momo_callback_receive(
    *, config: MomoChannelConfig, reference_ids: Iterable[Any], body: Any, client: MomoClient | None = None
) -> list[MomoRequest]:
    """A callback says some request may have ended: confirm it with MTN. The callback's own amount and status are
    never used. The request is found by its reference id (in our callback URL, a header or the body), else among
    the operator's pending requests for the callback's externalId."""
    operator = config.operator
    references = _uuids(reference_ids)
    requests = list(MomoRequest.objects.filter(operator=operator, reference_id__in=references))
    if not requests and isinstance(body, dict) and isinstance(body.get("externalId"), str):
        requests = list(
            MomoRequest.objects.filter(
                operator=operator, status=MomoRequest.Status.PENDING, external_id__iexact=body["externalId"].strip()
            ).order_by("-created_at")[:EXTERNAL_ID_MATCH_LIMIT]
        )
    if not requests:
        logger.info("MoMo callback for operator %s matched no request (references %s)", operator.pk, references)
    client = client or momo_client()
    return [momo_confirm(reference_id=momo.reference_id, client=client) for momo in requests]


@dataclasses.dataclass
class PollResult:
    checked: int = 0
    successful: int = 0
    failed: int = 0
    expired: int = 0
    review: int = 0
    pending: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def momo_poll(*, now: datetime.datetime | None = None, client: MomoClient | None = None) -> PollResult:
    """Confirm the pending requests not checked lately, least recently checked first: the callback is sent once
    and never again, so this is what completes a request whose callback was lost."""
    now = now or timezone.now()
    quiet = datetime.timedelta(seconds=float(momo_setting("MITA_MOMO_POLL_AFTER_SECONDS")))
    due = (
        MomoRequest.objects.filter(status=MomoRequest.Status.PENDING, created_at__lte=now - quiet)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=now - quiet))
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("reference_id", flat=True)[: int(momo_setting("MITA_MOMO_POLL_BATCH"))]
    )
    client = client or momo_client()
    result = PollResult()
    errors_in_a_row = 0
    for reference_id in list(due):
        if errors_in_a_row >= POLL_GIVE_UP_AFTER_ERRORS:
            # MTN is down or refuses us: the rest would each wait for the timeout; the next run tries again.
            logger.warning("MoMo poll stopped after %s errors in a row", errors_in_a_row)
            break
        result.checked += 1
        try:
            momo = momo_confirm(reference_id=reference_id, client=client)
        except Exception:  # one request's trouble must not stop the others; it is logged and tried next time
            logger.exception("could not confirm MoMo request %s", reference_id)
            result.errors += 1
            errors_in_a_row += 1
            continue
        failed_to_ask = momo.status == MomoRequest.Status.PENDING and bool(momo.last_error)
        result.errors += failed_to_ask
        errors_in_a_row = errors_in_a_row + 1 if failed_to_ask else 0
        setattr(result, momo.status, getattr(result, momo.status) + 1)
    if result.checked:
        logger.info("MoMo poll: %s", result.as_dict())
    return result
