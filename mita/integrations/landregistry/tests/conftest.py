from collections.abc import Iterator

import pytest

from mita.integrations.landregistry.client import LandRegistryClient
from mita.integrations.landregistry.fake import FakeLandRegistry

API_KEY = "test-land-key"


@pytest.fixture
def fake_registry() -> Iterator[FakeLandRegistry]:
    """The fake land registry on a free loopback port, seeded with the demo's parcels."""
    with FakeLandRegistry(api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def registry_client(fake_registry: FakeLandRegistry) -> LandRegistryClient:
    return LandRegistryClient(base_url=fake_registry.base_url, api_key=API_KEY, timeout=2.0)
