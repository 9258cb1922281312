from collections.abc import Iterator

import pytest

from mita.integrations.africastalking.client import AfricasTalkingClient
from mita.integrations.africastalking.fake import FakeAfricasTalking

API_KEY = "test-api-key"


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalking]:
    """The fake Africa's Talking API on a free loopback port."""
    with FakeAfricasTalking(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def at_client(fake_at: FakeAfricasTalking) -> AfricasTalkingClient:
    return AfricasTalkingClient(
        base_url=fake_at.base_url, username="sandbox", api_key=API_KEY, sender_id="MITA", timeout=0.5
    )
