from collections.abc import Iterator

import pytest

from mita.integrations.momo.client import MomoClient
from mita.integrations.momo.fake import FakeMomo

SUBSCRIPTION_KEY = "test-subscription-key"
API_USER = "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9"
API_KEY = "test-api-key"


@pytest.fixture
def fake_momo() -> Iterator[FakeMomo]:
    """The fake MoMo Collection API on a free loopback port."""
    with FakeMomo(subscription_key=SUBSCRIPTION_KEY, api_user=API_USER, api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def momo_client(fake_momo: FakeMomo) -> MomoClient:
    return MomoClient(
        base_url=fake_momo.base_url,
        subscription_key=SUBSCRIPTION_KEY,
        api_user=API_USER,
        api_key=API_KEY,
        target_environment="sandbox",
        timeout=0.5,
    )
