"""What the online payment tests share: the fake gateway, customer accounts, operator A's settings and a link."""

import datetime
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from mita.integrations.gateway.fake import FakeFlutterwave, json_bytes
from mita.ledger.services import charge_post
from mita.payments.models_online import OnlineChannelConfig, OnlineCheckout, PaymentLink
from mita.payments.online import checkout_start, online_channel_configure, online_webhook_url, payment_link_for

HOLDER = "AAL-000123"
OTHER_HOLDER = "AAL-000124"
PAYER = "+250788123456"
DUE = datetime.date(2026, 10, 31)


@pytest.fixture
def gateway(settings) -> Iterator[FakeFlutterwave]:  # type: ignore[no-untyped-def]
    """The fake gateway on a free loopback port, and Mita pointed at it (the fake's key is the default)."""
    with FakeFlutterwave() as fake:
        settings.MITA_GATEWAY_BASE_URL = fake.base_url
        settings.MITA_GATEWAY_TIMEOUT_SECONDS = 2.0
        yield fake


@pytest.fixture
def customer_a(operator_a):  # type: ignore[no-untyped-def]
    """Two customer accounts of operator A that owe 1,500 RWF each."""
    for holder in (HOLDER, OTHER_HOLDER):
        charge(operator_a, holder)
    return HOLDER


def charge(operator: Any, holder: str, amount: str = "1500") -> None:
    charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=f"bill:{holder}:{amount}",
        due_date=DUE,
        acting_user=None,
    )


@pytest.fixture
def online_a(operator_a, admin_a, gateway) -> OnlineChannelConfig:  # type: ignore[no-untyped-def]
    """Operator A takes payments online; the gateway's dashboard has its webhook URL and secret hash."""
    config = online_channel_configure(operator=operator_a, acting_user=admin_a)
    gateway.dashboard(webhook_url=online_webhook_url(config=config), secret_hash=config.secret_hash)
    return config


@pytest.fixture
def link_a(customer_a, online_a, operator_a) -> PaymentLink:  # type: ignore[no-untyped-def]
    link = payment_link_for(operator=operator_a, holder=HOLDER)
    assert link is not None
    return link


def start(link: PaymentLink, amount: str | None = "1500", phone: str = PAYER) -> OnlineCheckout:
    return checkout_start(link=link, amount=None if amount is None else Decimal(amount), payer_phone=phone)


def webhook_path(config: OnlineChannelConfig) -> str:
    return reverse("online:webhook", args=[config.operator_id, config.callback_secret])


def deliver(
    gateway: FakeFlutterwave,
    config: OnlineChannelConfig,
    transaction_id: str,
    *,
    client: Client | None = None,
    secret_hash: str | None = None,
    path: str = "",
    **overrides: Any,
) -> Any:
    """Deliver the webhook the gateway would send for a transaction (changed as a liar would) to the view."""
    body = json_bytes(gateway.webhook_body(transaction_id, **overrides))
    return (client or Client()).post(
        path or webhook_path(config),
        body,
        content_type="application/json",
        HTTP_VERIF_HASH=config.secret_hash if secret_hash is None else secret_hash,
    )


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)
