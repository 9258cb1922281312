from collections.abc import Iterator
from typing import Any

import pytest

from mita.integrations.africastalking.fake import FakeAfricasTalking
from mita.notifications.models import OutboxMessage

AT_API_KEY = "test-api-key"
DELIVERY_SECRET = "delivery-s3cret-for-tests"


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalking]:
    """The fake Africa's Talking API on a free loopback port."""
    with FakeAfricasTalking(api_key=AT_API_KEY) as fake:
        yield fake


@pytest.fixture
def at_gateway(settings: Any, fake_at: FakeAfricasTalking) -> FakeAfricasTalking:
    """Mita configured to send SMS through Africa's Talking, which is the fake on loopback."""
    settings.MITA_SMS_GATEWAY = "africastalking"
    settings.MITA_AT_BASE_URL = fake_at.base_url
    settings.MITA_AT_USERNAME = "mita-test"
    settings.MITA_AT_API_KEY = AT_API_KEY
    settings.MITA_AT_SENDER_ID = "MITA"
    settings.MITA_AT_TIMEOUT_SECONDS = 0.5
    settings.MITA_AT_DELIVERY_SECRET = DELIVERY_SECRET
    return fake_at


def outbox_message(**fields: Any) -> OutboxMessage:
    """A message as it sits in the outbox, written directly (for the pages' and API's tests)."""
    values: dict[str, Any] = {
        "channel": OutboxMessage.Channel.SMS,
        "to": "+250788000111",
        "template": "notifications.test",
        "language": "en",
        "body": "This is a test message from Mita.",
        "status": OutboxMessage.Status.SENT,
    }
    values.update(fields)
    return OutboxMessage.objects.create(**values)
