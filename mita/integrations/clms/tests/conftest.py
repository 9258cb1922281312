from collections.abc import Iterator

import pytest

from mita.integrations.clms.client import ClmsClient
from mita.integrations.clms.fake import FakeClms

TOKEN = "test-clms-token"


@pytest.fixture
def fake_clms() -> Iterator[FakeClms]:
    """The fake CLMS on a free loopback port, seeded with the demo's licences."""
    with FakeClms(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def clms_client(fake_clms: FakeClms) -> ClmsClient:
    return ClmsClient(base_url=fake_clms.base_url, token=TOKEN, timeout=0.5)
