"""Provider-key fixtures: the Gemini fake with no key in the environment, and a booth slot using it."""

from typing import Any

import pytest

from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import ingest_password, sessionmaker

__all__ = ["gemini_fake", "gemini_server", "ingest_password", "sessionmaker"]

SECRET_KEY = "accounts-test-secret-" + "k" * 30


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    # No PHOTOCHANGER_GEMINI_API_KEY: keys come from the admin only.
    return {"gemini_base_url": gemini_server.url, "secret_key": SECRET_KEY}
